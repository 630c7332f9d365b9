import { RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { Consumer, Kafka } from "../kafka/kafka-client.ts";
import type { SnapshotWriter } from "./snapshot-writer.ts";

export interface StatusRelayOptions {
  kafka: Kafka;
  groupId: string;
  topics: { requests: string; status: string };
  writer: SnapshotWriter;
  logger: Logger;
}

/**
 * Feeds Redis from Kafka: request events create queued snapshots, status events move them on.
 * Every write is idempotent (guarded by `kseq`), so redelivery after a crash is harmless and
 * offsets can be committed after each batch.
 */
export function createStatusRelay(options: StatusRelayOptions) {
  const { kafka, groupId, topics, writer, logger } = options;
  let consumer: Consumer | null = null;
  let stopping: Promise<void> | null = null;
  let joined = false;
  let applied = 0;

  async function handle(topic: string, partition: number, offset: string, value: Buffer | null): Promise<void> {
    if (topic === topics.requests) {
      const parsed = RequestEvent.decode(value);
      if (parsed.ok) await writer.applyRequest(parsed.value, partition, offset);
      else logger.warn("skipping an invalid request event", { topic, partition, offset, issues: parsed.issues });
      return;
    }
    const parsed = StatusEvent.decode(value);
    if (!parsed.ok) {
      logger.warn("skipping an invalid status event", { topic, partition, offset, issues: parsed.issues });
      return;
    }
    if (await writer.applyStatus(parsed.value)) applied++;
  }

  return {
    async start(): Promise<void> {
      consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.requests, topics.status], fromBeginning: true });
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
    get applied(): number {
      return applied;
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
export type StatusRelay = ReturnType<typeof createStatusRelay>;
