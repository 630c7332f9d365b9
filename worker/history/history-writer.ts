import { CompleteEvent, FailedEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import { createInOrderConsumer, type InOrderMessage } from "../kafka/in-order-consumer.ts";
import { invalidEvent } from "../kafka/invalid-event.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import type { HistoryDb } from "./history-db.ts";

export interface HistoryWriterOptions {
  kafka: Kafka;
  /** KAFKA_HISTORY_GROUP: its own group, so history reads every terminal event independently of other consumers. */
  groupId: string;
  topics: { complete: string; failed: string };
  history: Pick<HistoryDb, "record">;
  deadLetters: Pick<DeadLetters, "park">;
  logger: Logger;
  observe?(result: "inserted" | "duplicate" | "invalid", seconds: number): void;
  onLag?(topic: string, partition: number, lag: number): void;
}

/**
 * Copies terminal events from Kafka (7 days' retention) into the durable history database.
 * An offset is resolved only after its row is written, and a redelivered event finds its id
 * already recorded and changes nothing: at least once in, exactly one row out. A database
 * outage is waited out before the offset moves; an event that is not valid is parked on the
 * dead-letter topic and passed.
 */
export function createHistoryWriter(options: HistoryWriterOptions) {
  const { topics, history, logger } = options;
  let recorded = 0;

  async function handle({ topic, partition, offset, value }: InOrderMessage): Promise<void> {
    const definition = topic === topics.complete ? CompleteEvent : FailedEvent;
    const parsed = definition.decode(value);
    if (!parsed.ok) {
      options.observe?.("invalid", 0);
      // Parked on the dead-letter topic by the consumer; a database outage is retried instead.
      throw invalidEvent(definition, parsed.issues);
    }
    const began = performance.now();
    const inserted = await history.record(parsed.value);
    options.observe?.(inserted ? "inserted" : "duplicate", (performance.now() - began) / 1000);
    if (inserted) recorded++;
    else logger.debug("generation already recorded", { id: parsed.value.id, topic, partition, offset });
  }

  const consumer = createInOrderConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [topics.complete, topics.failed],
    handle,
    deadLetters: options.deadLetters,
    logger,
    onLag: options.onLag,
  });
  return {
    start: consumer.start,
    stop: consumer.stop,
    get ready(): boolean {
      return consumer.ready;
    },
    get crashes(): number {
      return consumer.crashes;
    },
    /** Rows this instance inserted (redelivered events are not counted). */
    get recorded(): number {
      return recorded;
    },
  };
}
export type HistoryWriter = ReturnType<typeof createHistoryWriter>;
