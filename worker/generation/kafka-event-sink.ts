import type { BatchingProducer } from "../gateway/batching-producer.ts";
import type { EventSink } from "./event-sink.ts";

/** Status and outcome events go through the same group-commit producer the gateway uses. */
export function kafkaEventSink(producer: BatchingProducer): EventSink {
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
  };
}
