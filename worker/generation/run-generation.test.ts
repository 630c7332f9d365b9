/**
 * runGeneration's Redis traffic before a start, on the real Redis, broker and procedural provider:
 * the first block of producer seqs travels with the pre-start checks, so the first status event
 * goes live without a round trip of its own.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redisKeys } from "../../shared/redis-keys.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics, endOffsetTotal, requestEvent } from "../gateway/gateway-fixtures.ts";
import { createLocalImageStore } from "../images/local-image-store.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createSnapshotWriter } from "../relay/snapshot-writer.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";
import { createGenerationState } from "./generation-state.ts";
import { kafkaEventSink } from "./kafka-event-sink.ts";
import { createProceduralProvider } from "./procedural-provider.ts";
import type { GenerationProvider } from "./provider.ts";
import { type GenerationDeps, runGeneration } from "./run-generation.ts";

const config = freshKafkaConfig();
const topics = topicSpecs(config);
const kafka = testKafka(config);
const producer = createBatchingProducer({ kafka, logger: silentLogger });
const prefix = freshPrefix();
const images = mkdtempSync(join(tmpdir(), "run-generation-"));
let redis: Redis;

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
  redis = await createRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await producer.close();
  await deleteTestTopics(config);
  await deleteKeys(redis, prefix);
  redis.close();
  rmSync(images, { recursive: true, force: true });
});

/** runGeneration's dependencies over `client`: the real broker, image store and procedural provider. */
const depsOver = (client: Redis, provider: GenerationProvider = createProceduralProvider()): GenerationDeps => ({
  provider,
  store: createLocalImageStore(images),
  state: createGenerationState(client, prefix),
  sink: kafkaEventSink(producer, kafka),
  applyLive: createSnapshotWriter(client, prefix).applyLive,
  topics: { status: topics.status.name, complete: topics.complete.name, failed: topics.failed.name },
  workerId: "w",
  policy: { timeoutMs: 30_000, maxAttempts: 1, retryBaseMs: 100, progressIntervalMs: 250 },
  imageUrl: (key) => `http://localhost/images/${key}`,
  discardImages: async () => {},
  shutdown: new AbortController().signal,
  logger: silentLogger,
});

test("the first block of event numbers is asked for with the pre-start checks, before any reply", async () => {
  // Every command as it is sent and as its reply arrives, in order.
  const traffic: string[] = [];
  const watched: Redis = {
    send(command, args) {
      traffic.push(`sent ${command}`);
      return redis.send(command, args).finally(() => traffic.push(`reply ${command}`));
    },
    close: () => {},
  };
  const outcome = await runGeneration(
    requestEvent({
      params: { prompt: "reserve ahead", style: "gradient", width: 256, height: 256, format: "webp", seed: 3 },
    }),
    undefined,
    depsOver(watched),
  );
  expect(outcome).toBe("completed");
  const firstReply = traffic.findIndex((entry) => entry.startsWith("reply "));
  const beforeAnyReply = traffic.slice(0, firstReply);
  // The four checks (EXISTS deleted, GET claim, EXISTS canceled, GET attempt floor) and the
  // reservation (INCRBY, EXPIRE).
  expect(beforeAnyReply.toSorted()).toEqual(
    ["sent EXISTS", "sent EXISTS", "sent GET", "sent GET", "sent INCRBY", "sent EXPIRE"].toSorted(),
  );
  // One block served the whole run: no second reservation.
  expect(traffic.filter((entry) => entry === "sent INCRBY")).toHaveLength(1);
}, 30_000);

test("a record below the attempt floor (its generation replayed since) ends without a provider call or an event", async () => {
  const counted = scriptedProvider([]);
  const request = requestEvent({ attempt: 1 });
  await redis.send("SET", [redisKeys(prefix).attemptFloor(request.id), "2", "EX", "60"]);
  const statusBefore = await endOffsetTotal(kafka, topics.status.name);

  expect(await runGeneration(request, undefined, depsOver(redis, counted))).toBe("duplicate");
  expect(counted.calls).toBe(0);
  expect(await endOffsetTotal(kafka, topics.status.name)).toBe(statusBefore);
  // The replay's own record, at the floor, runs.
  expect(await runGeneration({ ...request, attempt: 2 }, undefined, depsOver(redis, counted))).toBe("completed");
  expect(counted.calls).toBe(1);
}, 30_000);
