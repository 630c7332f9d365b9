/**
 * A generation worker through a Redis outage (a private, durable redis-server, killed and
 * restarted): the request is waited out, not parked, and completes once Redis is back; the
 * consumer never crashes. An outage that begins just after the outcome went to Kafka delays
 * only the steps after it: the outcome is not published a second time. Nor is one whose produce
 * Kafka wrote but whose acknowledgement was lost (a broker stopping mid-request).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PipelineError } from "../../shared/errors.ts";
import type { RequestEvent } from "../../shared/events/events.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { type BatchingProducer, createBatchingProducer } from "../gateway/batching-producer.ts";
import {
  createFreshTopics,
  edgeMessage,
  endOffsetTotal,
  eventsOf,
  readMessages,
  requestEvent,
} from "../gateway/gateway-fixtures.ts";
import { type HistoryDb, openHistoryDb } from "../history/history-db.ts";
import { createLocalImageStore } from "../images/local-image-store.ts";
import { createDeadLetters } from "../kafka/dead-letters.ts";
import { createPurger } from "../lifecycle/purge-generation.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { type PrivateRedis, startPrivateRedis } from "../testing/private-redis.ts";
import type { GenerationConsumer } from "./generation-consumer.ts";
import { createGenerationState } from "./generation-state.ts";
import { createGenerationWorker } from "./generation-worker.ts";
import { createProceduralProvider } from "./procedural-provider.ts";

const config = freshKafkaConfig();
const topics = topicSpecs(config);
const kafka = testKafka(config);
const producer = createBatchingProducer({ kafka, logger: silentLogger });
const imageDir = mkdtempSync(join(tmpdir(), "outage-images-"));
let server: PrivateRedis;
let redis: Redis;
let worker: GenerationConsumer;
let history: HistoryDb;
/** Runs once, right after the worker's next outcome event is in Kafka. */
let afterOutcome: (() => Promise<void>) | null = null;
/** Fails the worker's next outcome produce after Kafka wrote it, as a lost acknowledgement does. */
let loseNextAck = false;
/** The worker's producer: the real one, with a hook between the outcome's produce and what follows. */
const eventProducer: BatchingProducer = {
  ...producer,
  async sendRecords(records) {
    const produced = await producer.sendRecords(records);
    const hook = afterOutcome;
    if (hook && records.some((r) => r.topic === topics.complete.name)) {
      afterOutcome = null;
      await hook();
    }
    if (loseNextAck && records.some((r) => r.topic === topics.complete.name)) {
      loseNextAck = false;
      throw new PipelineError("kafka_unavailable", "Kafka write failed: Connection error: connect ECONNREFUSED", {
        retryable: true,
      });
    }
    return produced;
  },
};

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
  server = await startPrivateRedis({ persistent: true });
  redis = await createRedis(server.url);
  history = await openHistoryDb(`file:${join(imageDir, "history.sqlite")}`);
  const store = createLocalImageStore(imageDir);
  const purger = createPurger({ redis, prefix: "outage:", history, store, logger: silentLogger });
  worker = createGenerationWorker({
    kafka,
    producer: eventProducer,
    deadLetters: createDeadLetters({
      producer,
      topic: topics.deadLetter.name,
      consumer: "workers",
      logger: silentLogger,
    }),
    topics,
    groupId: config.consumerGroup,
    maxConcurrent: 2,
    provider: createProceduralProvider(),
    store,
    state: createGenerationState(redis, "outage:"),
    workerId: "outage-worker",
    policy: { timeoutMs: 30_000, maxAttempts: 3, retryBaseMs: 20, progressIntervalMs: 250 },
    imageUrl: (key) => `http://127.0.0.1/images/${key}`,
    discardImages: purger.discardImages,
    logger: silentLogger,
  });
  await worker.start();
  while (!worker.ready) await Bun.sleep(50);
});
afterAll(async () => {
  await worker.stop(1_000);
  await producer.close();
  await history.close();
  redis.close();
  await server.stop();
  await deleteTestTopics(config);
  rmSync(imageDir, { recursive: true, force: true });
});

async function submit(): Promise<RequestEvent> {
  // Small, so the procedural provider renders it quickly.
  const request = requestEvent({
    params: { prompt: "a fox", style: "pixel-art", width: 256, height: 256, format: "png", seed: 3 },
  });
  await producer.send(topics.requests.name, [edgeMessage(request)]);
  return request;
}

test("a request met during a Redis outage completes once Redis is back; nothing is parked, no crash", async () => {
  await server.kill();
  const request = await submit();
  // The worker takes the request and meets the outage; it waits with it in hand.
  while (worker.inFlight === 0) await Bun.sleep(50);
  await Bun.sleep(2_000);
  expect(await endOffsetTotal(kafka, topics.complete.name)).toBe(0);

  await server.restart();
  const [complete] = await readMessages(kafka, topics.complete.name, 1);
  expect(JSON.parse(complete?.value ?? "{}")).toMatchObject({ id: request.id, attempts: 1 });
  expect(await endOffsetTotal(kafka, topics.deadLetter.name)).toBe(0);
  expect(worker.crashes).toBe(0);
}, 60_000);

test("Redis lost right after the outcome is in Kafka: the outcome and its terminal status go out once", async () => {
  const completeBefore = await endOffsetTotal(kafka, topics.complete.name);
  let killed = false;
  afterOutcome = async () => {
    await server.kill();
    killed = true;
  };
  const request = await submit();
  while (!killed) await Bun.sleep(50);
  // The worker meets the outage marking the claim published, and waits there.
  await Bun.sleep(1_500);
  await server.restart();
  while (worker.inFlight > 0) await Bun.sleep(50);
  // A second publish (the old whole-run retry) would follow the restart within a backoff step.
  await Bun.sleep(2_000);

  expect(await endOffsetTotal(kafka, topics.complete.name)).toBe(completeBefore + 1);
  const statuses = await eventsOf(kafka, topics.status.name, request.id);
  expect(statuses.filter((e) => e.status === "completed")).toHaveLength(1);
  expect(await endOffsetTotal(kafka, topics.deadLetter.name)).toBe(0);
  expect(worker.crashes).toBe(0);
}, 60_000);

test("an outcome Kafka wrote though its produce failed (acknowledgement lost) is not written again", async () => {
  const completeBefore = await endOffsetTotal(kafka, topics.complete.name);
  loseNextAck = true;
  const request = await submit();
  while (loseNextAck) await Bun.sleep(50);
  // The worker retries the run, meets its own unpublished claim, and publishes what Kafka lacks.
  while (worker.inFlight > 0) await Bun.sleep(50);

  expect(await endOffsetTotal(kafka, topics.complete.name)).toBe(completeBefore + 1);
  const statuses = await eventsOf(kafka, topics.status.name, request.id);
  expect(statuses.filter((e) => e.status === "completed")).toHaveLength(1);
  expect(await endOffsetTotal(kafka, topics.deadLetter.name)).toBe(0);
  expect(worker.crashes).toBe(0);
}, 60_000);
