import { errorMessage, PipelineError } from "../../shared/errors.ts";
import type { BatchingProducer } from "../gateway/batching-producer.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import { readTopic } from "../kafka/topic-reader.ts";
import type { EventSink } from "./event-sink.ts";

/** Status and outcome events go through the same group-commit producer the gateway uses. */
export function kafkaEventSink(producer: BatchingProducer, kafka: Kafka): EventSink {
  return {
    async send(records) {
      await producer.sendRecords(
        records.map(({ topic, message }) => ({
          topic,
          key: message.key,
          value: message.value,
          headers: Object.entries(message.headers).map(([key, value]) => ({ key, value })),
        })),
      );
    },
    // Only on the rare path of a claim found unpublished, so a reader of its own (a throwaway
    // group, no commits) is worth it. Only records of the keys asked about are kept.
    async written(records, sinceMs) {
      const admin = kafka.admin();
      const keys = new Set(records.map((r) => r.message.key));
      const id = (topic: string, key: string | null, value: string) => JSON.stringify([topic, key, value]);
      try {
        await admin.connect();
        const held = new Set<string>();
        for (const topic of new Set(records.map((r) => r.topic))) {
          for (const r of await readTopic(kafka, admin, topic, { since: sinceMs, timeoutMs: 10_000 }))
            if (r.key !== null && keys.has(r.key)) held.add(id(topic, r.key, r.value));
        }
        return records.map(({ topic, message }) => held.has(id(topic, message.key, message.value)));
      } catch (error) {
        // "Not known yet", never a verdict on the request: the caller decides what to do without it.
        throw new PipelineError("kafka_unavailable", `could not read back what Kafka holds: ${errorMessage(error)}`, {
          retryable: true,
          cause: error,
        });
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
  };
}
