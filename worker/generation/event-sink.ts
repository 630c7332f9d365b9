import type { EventMessageRecord } from "../../shared/events/kafka-message.ts";

export type SinkRecord = { topic: string; message: EventMessageRecord };

/**
 * Where the worker writes events: resolved once Kafka has them from all in-sync replicas.
 * Records of one call travel in one produce batch, in order.
 */
export interface EventSink {
  send(records: SinkRecord[]): Promise<void>;
  /**
   * Which of `records` Kafka already holds (same topic, key and value), written at or after
   * `sinceMs`. A send that failed may still have been written: the broker appended it and the
   * acknowledgement was lost (the broker stopped, the connection broke). Asked before sending
   * such records again, so an outcome is never in Kafka twice.
   */
  written(records: SinkRecord[], sinceMs: number): Promise<boolean[]>;
}
