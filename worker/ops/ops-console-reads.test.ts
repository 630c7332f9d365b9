/**
 * The console reads Kafka when someone looks — a metrics scrape, a console page — and not on a
 * timer, so an idle stack nobody watches pays nothing for it. Real broker and Redis.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { topicSpecs } from "../../shared/topics.ts";
import { type BatchingProducer, createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics, edgeMessage } from "../gateway/gateway-fixtures.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { Metrics } from "../runtime/metrics.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { createOpsConsole, type OpsConsole } from "./ops-console.ts";

// Long enough that producing one record and scraping again fit inside one period on a busy machine.
const REFRESH_MS = 500;
const config = freshKafkaConfig();
const topics = topicSpecs(config);
const kafka = testKafka(config);
const metrics = new Metrics();
let producer: BatchingProducer;
let redis: Redis;
let ops: OpsConsole;

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  producer = createBatchingProducer({ kafka, logger: silentLogger });
  await producer.start();
  redis = await createRedis(TEST_REDIS_URL);
  ops = await createOpsConsole({
    kafka,
    producer,
    redis,
    prefix: freshPrefix(),
    topics,
    groups: { workers: config.consumerGroup, relay: config.relayGroup, history: config.historyGroup },
    logger: silentLogger,
    metrics,
    refreshMs: REFRESH_MS,
  });
});
afterAll(async () => {
  await ops.stop();
  await producer.close();
  redis.close();
  await deleteTestTopics(config);
});

/** The requests topic's end offset in a rendered scrape. */
function requestsEnd(scrape: string): number {
  const line = scrape
    .split("\n")
    .find((l) => l.startsWith(`pixel_kafka_topic_end_offset{topic="${topics.requests.name}"`));
  return Number(line?.split(" ").at(-1));
}

test("a record produced while nobody looks is read only once a scrape or the console asks", async () => {
  const before = requestsEnd(metrics.render());
  await producer.send(topics.requests.name, [edgeMessage()]);
  // Many refresh periods: a console that polled on a timer would have read the record by now.
  await Bun.sleep(REFRESH_MS * 5);
  expect(requestsEnd(metrics.render())).toBe(before);
  expect(requestsEnd(await metrics.scrape())).toBe(before + 1);

  await producer.send(topics.requests.name, [edgeMessage()]);
  await Bun.sleep(REFRESH_MS * 2);
  const { overview } = await ops.overview();
  expect(overview?.topics.find((t) => t.name === topics.requests.name)?.endOffset).toBe(before + 2);
});

test("within a refresh period a scrape serves the snapshot it has; after it, everyone asking at once sees the new one", async () => {
  await Bun.sleep(REFRESH_MS * 2);
  const before = requestsEnd(await metrics.scrape());
  await producer.send(topics.requests.name, [edgeMessage()]);
  // Read within the period just started: the snapshot stays as it was.
  expect(requestsEnd(await metrics.scrape())).toBe(before);
  await Bun.sleep(REFRESH_MS * 2);
  const [first, second, { overview }] = await Promise.all([metrics.scrape(), metrics.scrape(), ops.overview()]);
  expect([requestsEnd(first), requestsEnd(second)]).toEqual([before + 1, before + 1]);
  expect(overview?.topics.find((t) => t.name === topics.requests.name)?.endOffset).toBe(before + 1);
});
