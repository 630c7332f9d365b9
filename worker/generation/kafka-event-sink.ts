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
    // Only after a failed send, so rare: a reader of its own (no group, no commits) is worth it.
    // Whatever stops the read (the broker still away, the read timing out) means "not known yet":
    // retryable, so the request waits it out instead of being parked with its outcome claimed.
    async written(records, sinceMs) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const held = new Set<string>();
        for (const topic of new Set(records.map((r) => r.topic))) {
          for (const r of await readTopic(kafka, admin, topic, { since: sinceMs, timeoutMs: 10_000 }))
            held.add(JSON.stringify([topic, r.key, r.value]));
        }
        return records.map(({ topic, message }) => held.has(JSON.stringify([topic, message.key, message.value])));
      } catch (error) {
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
