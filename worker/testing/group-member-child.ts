/**
 * A child process for supervisor tests: one kafkajs group member watched as the pipeline's are
 * (watchMembership), heartbeating every HEARTBEAT_MS, that appends each assignment it joins with
 * to OUT, one JSON line each: `{ at, partitions }`.
 */
import { appendFileSync } from "node:fs";
import { watchMembership } from "../kafka/group-membership.ts";
import { freshKafkaConfig, silentLogger, testKafka } from "./kafka-test-env.ts";

const env = process.env;
const config = freshKafkaConfig();
const kafka = testKafka(config);
const heartbeatInterval = Number(env.HEARTBEAT_MS);
const consumer = kafka.consumer({
  groupId: env.GROUP_ID ?? "",
  sessionTimeout: 60_000,
  heartbeatInterval,
  maxWaitTimeInMs: 100,
});
consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
  appendFileSync(
    env.OUT ?? "",
    `${JSON.stringify({ at: Date.now(), partitions: payload.memberAssignment[env.TOPIC ?? ""] ?? [] })}\n`,
  ),
);
watchMembership(consumer, { kafka, logger: silentLogger });
await consumer.connect();
await consumer.subscribe({ topics: [env.TOPIC ?? ""] });
await consumer.run({ eachMessage: async () => {} });
