/**
 * startConsumer never leaves a connected consumer behind: not when the broker refuses the
 * subscription (each relaunch would otherwise leak a connection), and not when its owner stopped
 * while it started. Real broker. And a relaunch, like a producer's reconnect, waits half a second
 * at most, so a broker that is back is used within that.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { topicSpecs } from "../../shared/topics.ts";
import { createFreshTopics } from "../gateway/gateway-fixtures.ts";
import { reconnectDelayMs } from "../gateway/producer-connection.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../testing/kafka-test-env.ts";
import type { Consumer } from "./kafka-client.ts";
import { relaunchDelayMs, startConsumer } from "./relaunch.ts";

const config = freshKafkaConfig();
const kafka = testKafka(config, { retries: 0 });
beforeAll(() => createFreshTopics(kafka, config));
afterAll(() => deleteTestTopics(config));

/** The consumer's connects and disconnects, in order, as kafkajs reports them. */
function watched(): { consumer: Consumer; seen: string[] } {
  const consumer = kafka.consumer({ groupId: `${config.consumerGroup}-launch`, allowAutoTopicCreation: false });
  const seen: string[] = [];
  consumer.on(consumer.events.CONNECT, () => seen.push("connect"));
  consumer.on(consumer.events.DISCONNECT, () => seen.push("disconnect"));
  return { consumer, seen };
}

test("a subscription the broker refuses fails the start and leaves the consumer disconnected", async () => {
  const { consumer, seen } = watched();
  const missing = `${config.topicPrefix}no-such-topic`;
  const started = startConsumer(consumer, [missing], { eachMessage: async () => {} }, new AbortController().signal);
  await expect(started).rejects.toThrow();
  expect(seen).toEqual(["connect", "disconnect"]);
}, 30_000);

test("a consumer whose owner stopped while it started is disconnected once started", async () => {
  const { consumer, seen } = watched();
  const stopped = new AbortController();
  stopped.abort(new Error("stopping"));
  const topic = topicSpecs(config).requests.name;
  await startConsumer(consumer, [topic], { eachMessage: async () => {} }, stopped.signal);
  // kafkajs reports a connect for the consumer and again once it runs; what matters is the last word.
  expect(seen).toContain("connect");
  expect(seen.at(-1)).toBe("disconnect");
}, 30_000);

test("a broker that is back is tried within half a second: relaunches and producer reconnects back off to 0.5 s", () => {
  const most = () => 1;
  expect([1, 2, 3, 4, 10, 60].map((n) => relaunchDelayMs(n, most))).toEqual([100, 200, 400, 500, 500, 500]);
  expect(relaunchDelayMs(60, () => 0)).toBe(250);
  expect([0, 1, 2, 30].map((n) => reconnectDelayMs(n))).toEqual([250, 500, 500, 500]);
  // A client given a shorter retry cap (the gateway's: 0.1 s) reconnects at that pace too.
  expect([0, 1, 30].map((n) => reconnectDelayMs(n, 100))).toEqual([100, 100, 100]);
});
