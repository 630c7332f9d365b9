/**
 * A broker that accepts the connection and then never answers: each request still fails after
 * its own timeout (kafka-client.ts arms one timer per request in place of kafkajs's 100 ms
 * interval), so no caller waits forever.
 */
import { afterAll, expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { freshKafkaConfig, silentLogger } from "../testing/kafka-test-env.ts";
import { createKafka } from "./kafka-client.ts";

const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
  socket.resume(); // reads every request, answers none
});
await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
const port = (silent.address() as { port: number }).port;

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

test("a request to a broker that never answers fails with a timeout", async () => {
  const config = { ...freshKafkaConfig(), brokers: [`127.0.0.1:${port}`] };
  const admin = createKafka({ config, logger: silentLogger, retries: 0, requestTimeoutMs: 300 }).admin();
  const outcome = await admin.connect().then(
    () => "connected",
    (error: Error) => String(error.message),
  );
  expect(outcome).toMatch(/timed out/i);
  expect(sockets.size).toBeGreaterThan(0);
}, 20_000);
