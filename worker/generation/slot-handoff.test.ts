/**
 * A generation may hand its slot to the next request before its outcome is recorded
 * (`releaseSlot`, called by runGeneration once the outcome is claimed): the next request starts
 * at once, while the partition's offset still waits for the first one's outcome. Real broker;
 * in the first two tests the run is a stand-in so the test holds the first generation exactly
 * where it wants; the last runs the real worker (runGeneration, Redis, the procedural provider).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { topicSpecs } from "../../shared/topics.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics, edgeMessage, requestEvent } from "../gateway/gateway-fixtures.ts";
import { createLocalImageStore } from "../images/local-image-store.ts";
import { createRedis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { createGenerationConsumer, type GenerationConsumer } from "./generation-consumer.ts";
import { createGenerationState } from "./generation-state.ts";
import { createGenerationWorker } from "./generation-worker.ts";
import { createProceduralProvider } from "./procedural-provider.ts";
import type { GenerationOutcome } from "./run-generation.ts";

const config = freshKafkaConfig();
const topics = topicSpecs(config);
const kafka = testKafka(config);
const producer = createBatchingProducer({ kafka, logger: silentLogger });
const consumers: GenerationConsumer[] = [];

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
});
afterAll(async () => {
  for (const consumer of consumers) await consumer.stop(1_000);
  await producer.close();
  await deleteTestTopics(config);
});

const params = { prompt: "handoff", style: "pixel-art", width: 256, height: 256, format: "png", seed: 1 } as const;

/** Requests with these `ids`, in order, on one partition (same key). */
async function sendPair(ids: string[], partitionKey: string) {
  for (const id of ids) {
    await producer.send(topics.requests.name, [{ ...edgeMessage(requestEvent({ id, params })), key: partitionKey }]);
  }
  return ids;
}

async function committedTotal(groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({ groupId, topics: [topics.requests.name] });
    return (topic?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * One slot; `ids[0]` runs until `open()`, handing its slot back first when `handOff`. Each
 * group reads the topic from the start: the other test's requests end at once, unrecorded.
 */
async function startConsumer(ids: string[], handOff: boolean) {
  const groupId = `${config.consumerGroup}-${handOff ? "handoff" : "held"}`;
  const started: string[] = [];
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const consumer = createGenerationConsumer({
    kafka,
    groupId,
    topic: topics.requests.name,
    maxConcurrent: 1,
    logger: silentLogger,
    deadLetters: { park: async () => {} },
    async run(request, _traceparent, _shutdown, releaseSlot): Promise<GenerationOutcome> {
      if (!ids.includes(request.id)) return "completed";
      started.push(request.id === ids[0] ? "first" : "second");
      if (request.id === ids[0]) {
        if (handOff) releaseSlot();
        await gate;
      }
      return "completed";
    },
  });
  consumers.push(consumer);
  await consumer.start();
  while (!consumer.ready) await Bun.sleep(50);
  return { consumer, groupId, started, open };
}

test("a run that hands its slot back lets the next request start; its offset still waits for its outcome", async () => {
  const ids = [uuidv7(), uuidv7()];
  const { consumer, groupId, started, open } = await startConsumer(ids, true);
  await sendPair(ids, "handoff-key");
  const deadline = Date.now() + 20_000;
  while (started.length < 2 && Date.now() < deadline) await Bun.sleep(20);
  expect(started).toEqual(["first", "second"]);
  // The second ended, but the first has no outcome yet: nothing of the partition is committed.
  await Bun.sleep(300);
  expect(consumer.inFlight).toBe(1);
  expect(await committedTotal(groupId)).toBe(0);

  open();
  while ((await committedTotal(groupId)) < 2 && Date.now() < deadline) await Bun.sleep(50);
  expect(await committedTotal(groupId)).toBe(2);
}, 30_000);

test("a run that keeps its slot holds the next request until its outcome", async () => {
  const ids = [uuidv7(), uuidv7()];
  const { started, open } = await startConsumer(ids, false);
  await sendPair(ids, "held-key");
  const deadline = Date.now() + 20_000;
  while (started.length < 1 && Date.now() < deadline) await Bun.sleep(20);
  await Bun.sleep(1_000);
  expect(started).toEqual(["first"]);
  open();
  while (started.length < 2 && Date.now() < deadline) await Bun.sleep(20);
  expect(started).toEqual(["first", "second"]);
}, 30_000);

test("the real worker hands its slot on once the outcome is claimed: the next request starts while that outcome's publish is held", async () => {
  const ids = [uuidv7(), uuidv7()];
  const redis = await createRedis(TEST_REDIS_URL);
  const prefix = freshPrefix();
  const imageDir = mkdtempSync(join(tmpdir(), "handoff-images-"));
  let publish = () => {};
  const held = new Promise<void>((resolve) => {
    publish = resolve;
  });
  let holding = false;
  const started: string[] = [];
  const worker = createGenerationWorker({
    kafka,
    // The first request's outcome waits here, after its claim in Redis, until `publish()`.
    producer: {
      ...producer,
      async sendRecords(records) {
        if (records.some((r) => r.topic === topics.complete.name && r.key === ids[0])) {
          holding = true;
          await held;
        }
        return producer.sendRecords(records);
      },
    },
    deadLetters: { park: async () => {} },
    topics,
    groupId: `${config.consumerGroup}-wired`,
    maxConcurrent: 1,
    provider: createProceduralProvider(),
    store: createLocalImageStore(imageDir),
    state: createGenerationState(redis, prefix),
    workerId: "handoff-worker",
    policy: { timeoutMs: 30_000, maxAttempts: 1, retryBaseMs: 20, progressIntervalMs: 250 },
    imageUrl: (key) => `http://127.0.0.1/images/${key}`,
    discardImages: async () => {},
    logger: silentLogger,
    onRunning: (id, running) => {
      if (running && ids.includes(id)) started.push(id);
    },
  });
  consumers.push(worker);
  try {
    await worker.start();
    while (!worker.ready) await Bun.sleep(50);
    await sendPair(ids, "wired-key");
    const deadline = Date.now() + 15_000;
    while (started.length < 2 && Date.now() < deadline) await Bun.sleep(20);
    expect(started).toEqual(ids);
    // The hook did stop the first one's outcome (so the second cannot have waited for its end).
    while (!holding && Date.now() < deadline) await Bun.sleep(20);
    expect(holding).toBe(true);
  } finally {
    publish();
    await worker.stop(1_000);
    await deleteKeys(redis, prefix);
    redis.close();
    rmSync(imageDir, { recursive: true, force: true });
  }
}, 30_000);
