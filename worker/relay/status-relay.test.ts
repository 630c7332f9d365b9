/**
 * The status relay through a Redis outage (it waits, parks nothing, never crashes, and loses
 * nothing), and over a fetched batch whose writes it pipelines (applied in order, gap-free).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics, edgeMessage, endOffsetTotal, requestEvent } from "../gateway/gateway-fixtures.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { type PrivateRedis, startPrivateRedis } from "../testing/private-redis.ts";
import { testStatusRelay } from "./relay-fixtures.ts";
import type { StatusRelay } from "./status-relay.ts";

const config = freshKafkaConfig();
const topics = topicSpecs(config);
const kafka = testKafka(config);
const producer = createBatchingProducer({ kafka, logger: silentLogger });
const prefix = "relay-outage:";
let server: PrivateRedis;
let redis: Redis;
let relay: StatusRelay;

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
  server = await startPrivateRedis();
  redis = await createRedis(server.url);
  relay = testStatusRelay({ kafka, config, redis, prefix, producer });
  await relay.start();
  while (!relay.ready) await Bun.sleep(50);
});
afterAll(async () => {
  await relay.stop();
  await producer.close();
  redis.close();
  await server.stop();
  await deleteTestTopics(config);
});

const send = (events: RequestEvent[]) =>
  producer.send(
    topics.requests.name,
    events.map((e) => edgeMessage(e)),
  );
async function snapshotsPresent(ids: string[], within = 30_000): Promise<boolean> {
  const until = Date.now() + within;
  while (Date.now() < until) {
    const found = await Promise.all(
      ids.map((id) => redis.send("EXISTS", [redisKeys(prefix).snapshot(id)]).catch(() => 0)),
    );
    if (found.every((n) => Number(n) === 1)) return true;
    await Bun.sleep(100);
  }
  return false;
}

test("requests applied during a Redis outage are applied once Redis is back; nothing is parked, no crash", async () => {
  const before = [requestEvent(), requestEvent(), requestEvent()];
  await send(before);
  expect(await snapshotsPresent(before.map((e) => e.id))).toBe(true);

  await server.kill();
  const during = [requestEvent(), requestEvent(), requestEvent(), requestEvent(), requestEvent(), requestEvent()];
  await send(during);
  // The relay meets the outage on these and waits; long enough for kafkajs to have restarted it several times before.
  await Bun.sleep(3_000);
  expect(relay.crashes).toBe(0);

  await server.restart();
  // The server came back empty (no persistence): only what the relay writes now is there.
  expect(await snapshotsPresent(during.map((e) => e.id))).toBe(true);
  expect(await endOffsetTotal(kafka, topics.deadLetter.name)).toBe(0);
  expect(relay.crashes).toBe(0);
}, 60_000);

test("a batch of one generation's status events is applied in order with gap-free seqs; a poison one is parked", async () => {
  const started = requestEvent();
  await send([started]);
  expect(await snapshotsPresent([started.id])).toBe(true);
  const status = (seq: number) =>
    toKafkaMessage(
      StatusEvent,
      StatusEvent.create({
        id: started.id,
        userId: started.userId,
        seq,
        status: "processing",
        stage: "rendering",
        progress: seq,
        at: new Date().toISOString(),
        workerId: "w1",
        attempt: 1,
      }),
      newTraceparent(),
    );
  const parkedBefore = await endOffsetTotal(kafka, topics.deadLetter.name);
  const messages = Array.from({ length: 40 }, (_, i) => status(i + 1));
  // One produce, one partition (same key): the relay fetches them as one batch, with garbage at 20.
  const records = messages.map((m) => ({
    key: m.key,
    value: m.value,
    headers: Object.entries(m.headers).map(([key, value]) => ({ key, value })),
  }));
  records.splice(20, 0, { ...records[0], value: "not an event" } as (typeof records)[number]);
  await producer.send(topics.status.name, records);

  const log = redisKeys(prefix).eventLog(started.id);
  const until = Date.now() + 30_000;
  let entries: { seq: number; progress: number }[] = [];
  while (Date.now() < until && entries.length < 40) {
    await Bun.sleep(100);
    entries = ((await redis.send("LRANGE", [log, "0", "-1"])) as string[]).map((raw) => JSON.parse(raw));
  }
  expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  expect(entries.map((e) => e.progress)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  // The batch's writes go out ahead of the in-order handling, so all forty can be in Redis before
  // the poison one, handled in its turn, is parked: wait for the park itself.
  let parked = await endOffsetTotal(kafka, topics.deadLetter.name);
  while (Date.now() < until && parked < parkedBefore + 1) {
    await Bun.sleep(100);
    parked = await endOffsetTotal(kafka, topics.deadLetter.name);
  }
  expect(parked).toBe(parkedBefore + 1);
}, 60_000);
