/**
 * Removing a member on its behalf, with the real broker: a live member leaves its group at once,
 * and a stale one (already gone, or never there) is answered "unknown" and not retried. The
 * members left are hurried: they rejoin without waiting for their heartbeat interval.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLogger } from "../../shared/logger.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createFreshTopics } from "../gateway/gateway-fixtures.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../testing/kafka-test-env.ts";
import { createMemberEvictor } from "./group-membership.ts";
import { type Consumer, heartbeatSoon, leaveGroupFor } from "./kafka-client.ts";

const config = freshKafkaConfig({ KAFKA_SESSION_TIMEOUT_MS: "60000" });
const kafka = testKafka(config);
const groupId = `${config.consumerGroup}-membership`;
let consumer: Consumer;
let memberId = "";

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  // A session far longer than the test: only a LeaveGroup can remove this member in time.
  consumer = kafka.consumer({ groupId, sessionTimeout: 60_000, heartbeatInterval: 1000 });
  const joined = new Promise<string>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => resolve(payload.memberId));
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topicSpecs(config).requests.name] });
  await consumer.run({ eachMessage: async () => {} });
  memberId = await joined;
}, 60_000);
afterAll(async () => {
  await consumer.disconnect();
  await deleteTestTopics(config);
});

const listed = async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [group] = (await admin.describeGroups([groupId])).groups;
    return (group?.members ?? []).map((m) => m.memberId);
  } finally {
    await admin.disconnect();
  }
};

test("a member is removed from its group at once; removing it again answers unknown, once", async () => {
  expect(await listed()).toEqual([memberId]);
  expect(await leaveGroupFor(kafka, groupId, memberId)).toBe("left");
  expect(await listed()).not.toContain(memberId);

  expect(await leaveGroupFor(kafka, groupId, memberId)).toBe("unknown");
  expect(await leaveGroupFor(kafka, `${groupId}-never-joined`, "no-such-member")).toBe("unknown");

  // The evictor takes "unknown" as done: one answer, no retries until its window ends.
  const lines: string[] = [];
  const evict = createMemberEvictor(kafka, createLogger({ sink: (_level, line) => lines.push(line) }));
  await evict({ groupId, memberId }, 60_000);
  expect(lines.map((line) => JSON.parse(line))).toMatchObject([
    { level: "info", msg: "removed a dead consumer group member", outcome: "unknown" },
  ]);
}, 60_000);

test("told that a member left, the others heartbeat and take over its partitions without waiting for their interval", async () => {
  const group = `${groupId}-hurried`;
  const topic = topicSpecs(config).requests.name;
  const all = topicSpecs(config).requests.partitions;
  const joins: { member: string; partitions: number[] }[] = [];
  const member = (name: string, heartbeatInterval: number) => {
    const c = kafka.consumer({ groupId: group, sessionTimeout: 60_000, heartbeatInterval, maxWaitTimeInMs: 100 });
    c.on(c.events.GROUP_JOIN, ({ payload }) =>
      joins.push({ member: name, partitions: payload.memberAssignment[topic] ?? [] }),
    );
    return c;
  };
  // `stays` heartbeats every 40 s (from its start), and its fetches return every 100 ms: only a
  // hurried heartbeat can tell it within the 20 s waited below that its group is rebalancing.
  // `leaves` joins first and heartbeats every second, so it learns of `stays` joining by itself.
  const leaves = member("leaves", 1000);
  const stays = member("stays", 40_000);
  const lastOf = (name: string) => joins.filter((j) => j.member === name).at(-1);
  try {
    for (const c of [leaves, stays]) {
      await c.connect();
      await c.subscribe({ topics: [topic] });
      await c.run({ eachMessage: async () => {} });
    }
    const split = (name: string) => (lastOf(name)?.partitions.length ?? all) < all;
    while (!split("stays") || !split("leaves")) await Bun.sleep(50);
    const joinsBefore = joins.length;

    await leaves.disconnect();
    heartbeatSoon(group);
    const until = Date.now() + 20_000;
    while (joins.length === joinsBefore && Date.now() < until) await Bun.sleep(50);
    expect(lastOf("stays")?.partitions).toHaveLength(all);
  } finally {
    await Promise.all([stays.disconnect(), leaves.disconnect()]);
  }
}, 90_000);
