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
  close(): Promise<void>;
}

/** `port`: a given one (a broker that was refusing connections there starts hanging); else any free one. */
export async function startSilentBroker(port = 0): Promise<SilentBroker> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${bound}`,
    get connections() {
      return sockets.size;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
