/**
 * A broker that accepts the connection and then never answers: each request still fails after
 * its own timeout (kafka-client.ts arms one timer per request in place of kafkajs's 100 ms
 * interval), so no caller waits forever.
 */
import { afterAll, expect, test } from "bun:test";
import { freshKafkaConfig, silentLogger } from "../testing/kafka-test-env.ts";
import { startSilentBroker } from "../testing/silent-broker.ts";
import { createKafka } from "./kafka-client.ts";

const silent = await startSilentBroker();
afterAll(() => silent.close());

test("a request to a broker that never answers fails with a timeout", async () => {
  const config = { ...freshKafkaConfig(), brokers: [silent.address] };
  const admin = createKafka({ config, logger: silentLogger, retries: 0, requestTimeoutMs: 300 }).admin();
  const outcome = await admin.connect().then(
    () => "connected",
    (error: Error) => String(error.message),
  );
  expect(outcome).toMatch(/timed out/i);
  expect(silent.connections).toBeGreaterThan(0);
}, 20_000);
