import { CompleteEvent, FailedEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import { createInOrderConsumer, type InOrderMessage } from "../kafka/in-order-consumer.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import type { HistoryDb } from "./history-db.ts";

export interface HistoryWriterOptions {
  kafka: Kafka;
  /** KAFKA_HISTORY_GROUP: its own group, so history reads every terminal event independently of other consumers. */
  groupId: string;
  topics: { complete: string; failed: string };
  history: Pick<HistoryDb, "record">;
  logger: Logger;
}

/**
 * Copies terminal events from Kafka (7 days' retention) into the durable history database.
 * An offset is resolved only after its row is written, and a redelivered event finds its id
 * already recorded and changes nothing: at least once in, exactly one row out. A database
 * error fails the batch before its offset moves, so kafkajs retries it.
 */
export function createHistoryWriter(options: HistoryWriterOptions) {
  const { topics, history, logger } = options;
  let recorded = 0;

  async function handle({ topic, partition, offset, value }: InOrderMessage): Promise<void> {
    const parsed = topic === topics.complete ? CompleteEvent.decode(value) : FailedEvent.decode(value);
    if (!parsed.ok) {
      logger.warn("skipping an invalid terminal event", { topic, partition, offset, issues: parsed.issues });
      return;
    }
    if (await history.record(parsed.value)) recorded++;
    else logger.debug("generation already recorded", { id: parsed.value.id, topic, partition, offset });
  }

  const consumer = createInOrderConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [topics.complete, topics.failed],
    handle,
  });
  return {
    start: consumer.start,
    stop: consumer.stop,
    get ready(): boolean {
      return consumer.ready;
    },
    /** Rows this instance inserted (redelivered events are not counted). */
    get recorded(): number {
      return recorded;
    },
  };
}
export type HistoryWriter = ReturnType<typeof createHistoryWriter>;
