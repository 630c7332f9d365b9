import type { BatchingProducer } from "../gateway/batching-producer.ts";
import type { EventSink } from "./event-sink.ts";

/** Status and outcome events go through the same group-commit producer the gateway uses. */
export function kafkaEventSink(producer: BatchingProducer): EventSink {
  return {
    async send(topic, messages) {
      await producer.send(
        topic,
        messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: Object.entries(m.headers).map(([key, value]) => ({ key, value })),
        })),
      );
    },
  };
}
