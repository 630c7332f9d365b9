/**
 * Fast takeover: a consumer process killed with SIGKILL (no LeaveGroup of its own) is removed from
 * its group by the supervisor that sees it die, so its partitions are consumed again long before
 * its session would have timed out. Real processes (two status relays), the real broker and Redis.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../../infrastructure/paths.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { createFreshTopics } from "../gateway/gateway-fixtures.ts";
import { createMemberEvictor } from "../kafka/group-membership.ts";
import type { Admin, Producer } from "../kafka/kafka-client.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { createSupervisor } from "./supervisor.ts";

/** Far longer than the takeover may take: reaching it means the dead member was waited out. */
const SESSION_TIMEOUT_MS = 60_000;
const config = freshKafkaConfig({ KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS) });
const relayGroup = `${config.consumerGroup}-relay`;
const topics = topicSpecs(config);
const kafka = testKafka(config);
const prefix = freshPrefix();
const evictions: string[] = [];
const evict = createMemberEvictor(kafka, silentLogger);
const supervisor = createSupervisor(silentLogger, {
  stopGraceMs: 10_000,
  evict: async (member) => {
    evictions.push(member.memberId);
    await evict(member, SESSION_TIMEOUT_MS);
  },
});
let producer: Producer;
let admin: Admin;
let redis: Redis;

const env = {
  PATH: process.env.PATH ?? "",
  LOG_LEVEL: "warn",
  LOG_FORMAT: "json",
  KAFKA_BROKERS: "127.0.0.1:9092",
  KAFKA_TOPIC_PREFIX: config.topicPrefix,
  KAFKA_CLIENT_ID: config.clientId,
  KAFKA_CONSUMER_GROUP: config.consumerGroup,
  KAFKA_RELAY_GROUP: relayGroup,
  KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
  REDIS_URL: TEST_REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  METRICS_PORT: "0",
};

async function members(): Promise<{ state: string; ids: string[] }> {
  const [group] = (await admin.describeGroups([relayGroup])).groups;
  return { state: group?.state ?? "", ids: (group?.members ?? []).map((m) => m.memberId) };
}

async function waitFor(check: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await Bun.sleep(50);
  }
  return false;
}

/** One request on every partition of the request topic; resolves their ids. */
async function requestOnEveryPartition(): Promise<string[]> {
  const ids: string[] = [];
  const messages = Array.from({ length: topics.requests.partitions }, (_, partition) => {
    const event = RequestEvent.create({
      id: uuidv7(),
      userId: "takeover",
      params: { prompt: "a fox", style: "pixel-art", width: 256, height: 256, format: "png", seed: 1 },
      createdAt: new Date().toISOString(),
      attempt: 1,
    });
    ids.push(event.id);
    const m = toKafkaMessage(RequestEvent, event, newTraceparent());
    return { partition, key: m.key, value: m.value, headers: m.headers };
  });
  await producer.send({ topic: topics.requests.name, messages });
  return ids;
}

const applied = (ids: string[]) => async () =>
  (await Promise.all(ids.map((id) => redis.send("EXISTS", [redisKeys(prefix).snapshot(id)])))).every(
    (n) => Number(n) === 1,
  );

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  producer = kafka.producer();
  await producer.connect();
  admin = kafka.admin();
  await admin.connect();
  redis = await createRedis(TEST_REDIS_URL);
  for (const name of ["relay-1", "relay-2"])
    supervisor.start({ name, cmd: [process.execPath, join(ROOT, "worker/relay/main.ts")], env });
  const stable = await waitFor(async () => {
    const group = await members();
    return group.state === "Stable" && group.ids.length === 2;
  }, 60_000);
  if (!stable) throw new Error("the two relays did not form a stable group");
}, 90_000);
afterAll(async () => {
  await supervisor.stop();
  await producer.disconnect();
  await admin.disconnect();
  await deleteKeys(redis, prefix);
  redis.close();
  await deleteTestTopics(config);
}, 60_000);

test("a relay killed with SIGKILL is removed from its group at once: every partition is consumed again well within its session timeout", async () => {
  expect(await waitFor(applied(await requestOnEveryPartition()), 30_000)).toBe(true);
  const before = await members();

  const killedAt = Date.now();
  process.kill(supervisor.pids()["relay-1"] ?? 0, "SIGKILL");
  const ids = await requestOnEveryPartition();
  expect(await waitFor(applied(ids), SESSION_TIMEOUT_MS)).toBe(true);
  const takeoverMs = Date.now() - killedAt;
  console.log(`takeover after SIGKILL: every partition consumed again ${takeoverMs} ms after the kill`);

  // The supervisor removed exactly the dead process's member, which the broker no longer lists.
  const [evicted = ""] = evictions;
  expect(evictions).toHaveLength(1);
  expect(before.ids).toContain(evicted);
  expect((await members()).ids).not.toContain(evicted);
  expect(takeoverMs).toBeLessThan(SESSION_TIMEOUT_MS);

  // The restarted relay joins as a new member, again without waiting out anyone's session.
  expect(
    await waitFor(async () => {
      const group = await members();
      return group.state === "Stable" && group.ids.length === 2;
    }, 30_000),
  ).toBe(true);
  expect(await waitFor(applied(await requestOnEveryPartition()), 30_000)).toBe(true);
}, 150_000);
