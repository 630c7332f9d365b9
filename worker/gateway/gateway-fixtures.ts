/**
 * Test and benchmark helpers for the gateway against the real local broker: fresh topics,
 * valid request events as the edge builds them, and reading back what really landed in Kafka.
 */
import { restMessage } from "../../edge/kafka-rest-producer.ts";
import type { SectionConfig } from "../../shared/config/parse-config.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import { ensureTopics } from "../kafka/topic-admin.ts";

/** A valid request event with a fresh id; `extra` replaces any field (a test's user, smaller params). */
export function requestEvent(extra: Partial<RequestEvent> = {}): RequestEvent {
  return RequestEvent.create({
    id: uuidv7(),
    userId: "user-gateway-test",
    params: { prompt: "a lighthouse at dusk", style: "pixel-art", width: 512, height: 512, format: "webp", seed: 7 },
    createdAt: new Date().toISOString(),
    attempt: 1,
    ...extra,
  });
}

/** What the edge hands to `@upstash/kafka`: key = id, JSON value, content-type and traceparent headers. */
export function edgeMessage(event: RequestEvent = requestEvent()) {
  return restMessage(toKafkaMessage(RequestEvent, event, newTraceparent()));
}

export async function createFreshTopics(kafka: Kafka, config: SectionConfig<"kafka">): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, Object.values(topicSpecs(config)));
  } finally {
    await admin.disconnect();
  }
}

export interface ReadMessage {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Reads a fresh topic from the beginning until `count` messages arrived (a fresh group, deleted after). */
export async function readMessages(kafka: Kafka, topic: string, count: number): Promise<ReadMessage[]> {
  const groupId = `${topic}-reader-${crypto.randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  const messages: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // Fails the test with what was read instead of hanging when messages are missing.
      const guard = setTimeout(() => reject(new Error(`read ${messages.length} of ${count} messages`)), 20_000);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [key, value] of Object.entries(message.headers ?? {})) headers[key] = String(value);
            messages.push({
              partition,
              offset: Number(message.offset),
              key: message.key?.toString() ?? "",
              value: message.value?.toString() ?? "",
              headers,
            });
            if (messages.length >= count) {
              clearTimeout(guard);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
  return messages;
}

/** Sum of the topic's end offsets: unchanged means nothing was written. */
export async function endOffsetTotal(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every event one generation has on a fresh topic, parsed. */
export async function eventsOf(kafka: Kafka, topic: string, id: string): Promise<{ id?: string; status?: string }[]> {
  const messages = await readMessages(kafka, topic, await endOffsetTotal(kafka, topic));
  return messages
    .map((m) => JSON.parse(m.value ?? "{}") as { id?: string; status?: string })
    .filter((e) => e.id === id);
}

export const positionOf = (r: { partition: number; offset: number }) => `${r.partition}:${r.offset}`;
