import type { EventMessageRecord } from "../../shared/events/kafka-message.ts";

/** Where the worker writes events: resolved once Kafka has them from all in-sync replicas. */
export interface EventSink {
  send(topic: string, messages: EventMessageRecord[]): Promise<void>;
}
