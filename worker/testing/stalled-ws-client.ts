/**
 * A WebSocket client that completes the handshake and then stops reading, like a phone on a
 * dead network: the server's unsent data piles up. `drain()` reads what is left and reports
 * the close code the server sent, if any.
 */
import { connect, type Socket } from "node:net";

export async function stalledClient(url: string): Promise<{ drain(): Promise<number | null>; socket: Socket }> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.write(
        `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${btoa(crypto.randomUUID().slice(0, 16))}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.once("data", (chunk: Buffer) => {
      if (!chunk.toString("latin1").startsWith("HTTP/1.1 101")) reject(new Error(`handshake refused: ${chunk}`));
      const headerEnd = chunk.indexOf("\r\n\r\n");
      chunks.push(chunk.subarray(headerEnd + 4));
      socket.pause();
      resolve();
    });
  });
  return {
    socket,
    drain() {
      return new Promise((resolve) => {
        socket.on("data", (chunk: Buffer) => chunks.push(chunk));
        socket.once("close", () => resolve(closeCode(Buffer.concat(chunks))));
        socket.resume();
      });
    },
  };
}

/** Walks the server's (unmasked) frames and returns the code of its close frame. */
function closeCode(data: Buffer): number | null {
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = (data[at] ?? 0) & 0x0f;
    let length = (data[at + 1] ?? 0) & 0x7f;
    let header = 2;
    if (length === 126) {
      length = data.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      length = Number(data.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (opcode === 0x8) return length >= 2 ? data.readUInt16BE(at + header) : 1005;
    at += header + length;
  }
  return null;
}
