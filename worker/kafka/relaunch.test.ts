/**
 * startConsumer never leaves a connected consumer behind: not when the broker refuses the
 * subscription (each relaunch would otherwise leak a connection), and not when its owner stopped
 * while it started. Real broker.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { topicSpecs } from "../../shared/topics.ts";
import { createFreshTopics } from "../gateway/gateway-fixtures.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../testing/kafka-test-env.ts";
import type { Consumer } from "./kafka-client.ts";
import { startConsumer } from "./relaunch.ts";

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
