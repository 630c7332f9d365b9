/**
 * publishAgain, the path of a claimed outcome found unpublished, against the real broker and
 * Redis: a claimant still sending is waited for, not raced; of workers that find it at once only
 * one sends; and neither a read-back that cannot be made nor a lease whose holder died holds the
 * request forever.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { redisKeys } from "../../shared/redis-keys.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics, eventsOf, requestEvent } from "../gateway/gateway-fixtures.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import { createRedis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import {
  deleteTestTopics,
  freshKafkaConfig,
  silentLogger,
  testKafka,
  unreachableKafka,
} from "../testing/kafka-test-env.ts";
import { createReporter, logLine } from "./generation-reporter.ts";
import { createGenerationState, type TerminalRecord } from "./generation-state.ts";
import { kafkaEventSink } from "./kafka-event-sink.ts";

const config = freshKafkaConfig();
const topics = topicSpecs(config);
const kafka = testKafka(config);
const producer = createBatchingProducer({ kafka, logger: silentLogger });
const redis = await createRedis(TEST_REDIS_URL);
const prefix = freshPrefix();
const state = createGenerationState(redis, prefix);

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
});
afterAll(async () => {
  await producer.close();
  await deleteKeys(redis, prefix);
  redis.close();
  await deleteTestTopics(config);
});

const reporter = (request: ReturnType<typeof requestEvent>, via: Kafka = kafka, shutdown?: AbortSignal) =>
  createReporter(request, undefined, {
    state,
    sink: kafkaEventSink(producer, via),
    topics: { status: topics.status.name, complete: topics.complete.name, failed: topics.failed.name },
    workerId: "publish-again-test",
    logger: silentLogger,
    shutdown,
  });

/** A canceled generation's terminal record (a status event only), claimed now. */
async function claim(request: ReturnType<typeof requestEvent>, claimedAt: number): Promise<TerminalRecord> {
  const status = await reporter(request).statusEvent("canceled", "done", 100, {
    request,
    log: logLine("info", "canceled"),
  });
  const record = { status, published: false, claimedAt };
  expect(await state.claimTerminal(request.id, record)).toBe(true);
  return record;
}

const terminalStatuses = async (id: string) => (await eventsOf(kafka, topics.status.name, id)).length;

/** As if another worker held the republish lease: `holder` is its token, lapsing in `ms`. */
const leaseHeld = (id: string, holder: string, ms: number) =>
  redis.send("SET", [redisKeys(prefix).republishing(id), holder, "PX", String(ms)]);
const leaseHolder = (id: string) => redis.send("GET", [redisKeys(prefix).republishing(id)]);

/** Its terminal status is in Kafka exactly once and the claim is marked published. */
async function expectPublishedOnce(id: string): Promise<void> {
  expect(await terminalStatuses(id)).toBe(1);
  expect((await state.terminal(id))?.published).toBe(true);
}

test("a claim whose claimant is still sending is waited for, not sent a second time", async () => {
  const request = requestEvent();
  const record = await claim(request, Date.now());
  // Another worker finds the claim unpublished while its claimant is about to send it.
  const other = reporter(request).publishAgain(record);
  await Bun.sleep(300);
  await reporter(request).publish(record);
  await other;
  expect(await terminalStatuses(request.id)).toBe(1);
}, 30_000);

test("a read-back that cannot be made falls back to sending: the claim is published, not held", async () => {
  const away = unreachableKafka(config);

  const request = requestEvent();
  // Claimed long ago: its claimant is gone, nothing to wait for.
  const record = await claim(request, Date.now() - 60_000);
  await reporter(request, away).publishAgain(record);
  await expectPublishedOnce(request.id);
}, 30_000);

test("workers that find a dead claimant's claim unpublished at once send it once: one takes the claim over", async () => {
  const request = requestEvent();
  // Its claimant died before publishing; the partition then moved twice while the grace ran, so
  // two workers hold the redelivered request and both find the grace over at the same moment.
  const record = await claim(request, Date.now() - 60_000);
  await Promise.all([reporter(request).publishAgain(record), reporter(request).publishAgain(record)]);
  await expectPublishedOnce(request.id);
}, 30_000);

test("a worker that took the claim over and died holds it only until its lease lapses", async () => {
  const request = requestEvent();
  const record = await claim(request, Date.now() - 60_000);
  // As a lease taken by a worker that died before publishing, left with a little time to run.
  await leaseHeld(request.id, "dead-worker", 300);
  await reporter(request).publishAgain(record);
  await expectPublishedOnce(request.id);
}, 30_000);

test("a worker shutting down without the lease hands the request back instead of sending beside the holder", async () => {
  const request = requestEvent();
  const record = await claim(request, Date.now() - 60_000);
  // Another worker holds the lease and is publishing.
  await leaseHeld(request.id, "another-worker", 60_000);
  const shutdown = new AbortController();
  shutdown.abort(new Error("worker shutting down"));
  await expect(reporter(request, kafka, shutdown.signal).publishAgain(record)).rejects.toThrow("worker shutting down");
  expect(await terminalStatuses(request.id)).toBe(0);
  expect(await leaseHolder(request.id)).toBe("another-worker");
}, 30_000);

test("only the token that holds a republish lease extends or drops it", async () => {
  const id = requestEvent().id;
  const token = await state.leaseRepublish(id, 60_000);
  expect(token).not.toBeNull();
  expect(await state.leaseRepublish(id, 60_000)).toBeNull();
  expect(await state.renewRepublish(id, "not-the-holder", 60_000)).toBe(false);
  await state.releaseRepublish(id, "not-the-holder");
  expect(await leaseHolder(id)).toBe(token);
  expect(await state.renewRepublish(id, token ?? "", 60_000)).toBe(true);
  await state.releaseRepublish(id, token ?? "");
  expect(await leaseHolder(id)).toBeNull();
});
