/**
 * Removing a member on its behalf, with the real broker: a live member leaves its group at once,
 * and a stale one (already gone, or never there) is answered "unknown" and not retried.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLogger } from "../../shared/logger.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createFreshTopics } from "../gateway/gateway-fixtures.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../testing/kafka-test-env.ts";
import { createMemberEvictor } from "./group-membership.ts";
import { type Consumer, leaveGroupFor } from "./kafka-client.ts";

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
