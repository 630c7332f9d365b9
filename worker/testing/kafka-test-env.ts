/**
 * Test fixtures for the real local broker: each call gets fresh topic and group names,
 * so test runs never see each other's data.
 */
import { type Env, parseConfig, type SectionConfig } from "../../shared/config/parse-config.ts";
import { createLogger } from "../../shared/logger.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { type Consumer, createKafka, type Kafka } from "../kafka/kafka-client.ts";
import { freePort } from "./process-pipeline.ts";

export const silentLogger = createLogger({ sink: () => {} });

export function freshKafkaConfig(overrides: Env = {}): SectionConfig<"kafka"> {
  const run = crypto.randomUUID().slice(0, 8);
  return parseConfig(
    {
      KAFKA_BROKERS: "127.0.0.1:9092",
      KAFKA_TOPIC_PREFIX: `test-${run}-`,
      KAFKA_CONSUMER_GROUP: `test-${run}-workers`,
      KAFKA_CLIENT_ID: `test-${run}`,
      ...overrides,
    },
    ["kafka"],
  ).kafka;
}

export function testKafka(config: SectionConfig<"kafka">, options: { retries?: number; ca?: string } = {}): Kafka {
  return createKafka({
    config,
    logger: silentLogger,
    retries: options.retries ?? 2,
    ca: options.ca,
    requestTimeoutMs: 10000,
  });
}

/** A client whose only broker refuses connections (a free port nobody listens on): fails at once. */
export const unreachableKafka = (config: SectionConfig<"kafka">): Kafka =>
  testKafka({ ...config, brokers: [`127.0.0.1:${freePort()}`] }, { retries: 0 });

/** Deletes the fresh topics a test created; failures are ignored because the broker may be down. */
export async function deleteTestTopics(config: SectionConfig<"kafka">): Promise<void> {
  const admin = testKafka(config, { retries: 0 }).admin();
  try {
    await admin.connect();
    const names = Object.values(topicSpecs(config)).map((s) => s.name);
    const existing = new Set(await admin.listTopics());
    const toDelete = names.filter((n) => existing.has(n));
    if (toDelete.length) await admin.deleteTopics({ topics: toDelete });
  } catch {
    // best effort
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * A consumer of `groupId` on `topic`, running and joined. Its session outlasts any test, so only
 * a LeaveGroup (or its own disconnect) removes it in time.
 */
export async function joinedMember(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<{ consumer: Consumer; groupId: string; memberId: string }> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 60_000, heartbeatInterval: 1000 });
  const joined = new Promise<string>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => resolve(payload.memberId));
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({ eachMessage: async () => {} });
  return { consumer, groupId, memberId: await joined };
}

/** The member ids the broker lists for `groupId`. */
export async function groupMembers(kafka: Kafka, groupId: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [group] = (await admin.describeGroups([groupId])).groups;
    return (group?.members ?? []).map((m) => m.memberId);
  } finally {
    await admin.disconnect();
  }
}
