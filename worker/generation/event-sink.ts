import type { EventMessageRecord } from "../../shared/events/kafka-message.ts";

/**
 * Where the worker writes events: resolved once Kafka has them from all in-sync replicas.
 * Records of one call travel in one produce batch, in order.
 */
export interface EventSink {
  send(records: { topic: string; message: EventMessageRecord }[]): Promise<void>;
}
