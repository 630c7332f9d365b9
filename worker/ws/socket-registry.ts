import type { ServerWebSocket } from "bun";

/** The sockets open on this instance, so shutdown can close them all (caps are counted in Redis: live-slots.ts). */
export class SocketRegistry {
  private readonly sockets = new Set<ServerWebSocket<unknown>>();

  get size(): number {
    return this.sockets.size;
  }

  add(socket: ServerWebSocket<unknown>): void {
    this.sockets.add(socket);
  }

  remove(socket: ServerWebSocket<unknown>): void {
    this.sockets.delete(socket);
  }

  closeAll(code: number, reason: string): void {
    for (const socket of this.sockets) socket.close(code, reason);
  }
}
