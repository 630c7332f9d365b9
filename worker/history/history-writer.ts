import { CompleteEvent, FailedEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { Consumer, Kafka } from "../kafka/kafka-client.ts";
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
  const { kafka, groupId, topics, history, logger } = options;
  let consumer: Consumer | null = null;
  let stopping: Promise<void> | null = null;
  let joined = false;
  let recorded = 0;

  async function handle(topic: string, partition: number, offset: string, value: Buffer | null): Promise<void> {
    const parsed = topic === topics.complete ? CompleteEvent.decode(value) : FailedEvent.decode(value);
    if (!parsed.ok) {
      logger.warn("skipping an invalid terminal event", { topic, partition, offset, issues: parsed.issues });
      return;
    }
    if (await history.record(parsed.value)) recorded++;
    else logger.debug("generation already recorded", { id: parsed.value.id, topic, partition, offset });
  }

  return {
    async start(): Promise<void> {
      consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.complete, topics.failed], fromBeginning: true });
      await consumer.run({
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          for (const message of batch.messages) {
            if (!isRunning() || isStale()) break;
            await handle(batch.topic, batch.partition, message.offset, message.value);
            resolveOffset(message.offset);
          }
          await heartbeat();
        },
      });
    },
    get ready(): boolean {
      return joined && stopping === null;
    },
    /** Rows this instance inserted (redelivered events are not counted). */
    get recorded(): number {
      return recorded;
    },
    /** Leaves the group after the current batch; safe to call twice. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        await consumer?.disconnect();
      })();
      return stopping;
    },
  };
}
export type HistoryWriter = ReturnType<typeof createHistoryWriter>;
