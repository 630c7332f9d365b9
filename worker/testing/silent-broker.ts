/**
 * A "broker" that accepts connections, reads every request and answers none: what a client
 * sees of a broker that hangs (paused, or its network path dropping replies). A client's
 * connect against it lasts until its request timeout and retries run out.
 */
import { createServer, type Socket } from "node:net";

export interface SilentBroker {
  /** `host:port`, for KAFKA_BROKERS. */
  address: string;
  /** Connections open now. */
  readonly connections: number;
  /** From now on, connections are kept and never answered (until then, with `dropping`, closed at once). */
  hang(): void;
  close(): Promise<void>;
}

/**
 * `dropping`: closes every connection the moment it opens — a broker that is away, whose client's
 * connect fails at once — until `hang()` (one that came back and hangs). One server, so the
 * address never changes hands in between.
 */
export async function startSilentBroker(options: { dropping?: boolean } = {}): Promise<SilentBroker> {
  const sockets = new Set<Socket>();
  let dropping = options.dropping ?? false;
  const server = createServer((socket) => {
    if (dropping) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    get connections() {
      return sockets.size;
    },
    hang() {
      dropping = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
