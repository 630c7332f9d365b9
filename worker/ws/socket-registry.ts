import type { ServerWebSocket } from "bun";

/** Open sockets per user on this instance: enforces the per-user cap and closes all on shutdown. */
export class SocketRegistry {
  private readonly byUser = new Map<string, Set<ServerWebSocket<unknown>>>();
  private count = 0;

  constructor(private readonly maxPerUser: number) {}

  get size(): number {
    return this.count;
  }

  hasRoom(userId: string): boolean {
    return (this.byUser.get(userId)?.size ?? 0) < this.maxPerUser;
  }

  add(userId: string, socket: ServerWebSocket<unknown>): void {
    let set = this.byUser.get(userId);
    if (!set) {
      set = new Set();
      this.byUser.set(userId, set);
    }
    if (!set.has(socket)) this.count++;
    set.add(socket);
  }

  remove(userId: string, socket: ServerWebSocket<unknown>): void {
    const set = this.byUser.get(userId);
    if (set?.delete(socket)) this.count--;
    if (set && set.size === 0) this.byUser.delete(userId);
  }

  closeAll(code: number, reason: string): void {
    for (const set of this.byUser.values()) for (const socket of set) socket.close(code, reason);
  }
}
