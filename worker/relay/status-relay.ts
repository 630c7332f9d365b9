import { RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import { createInOrderConsumer, type InOrderMessage } from "../kafka/in-order-consumer.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
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
  const { topics, writer, logger } = options;
  let applied = 0;

  async function handle({ topic, partition, offset, value }: InOrderMessage): Promise<void> {
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

  const consumer = createInOrderConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [topics.requests, topics.status],
    handle,
  });
  return {
    start: consumer.start,
    stop: consumer.stop,
    get ready(): boolean {
      return consumer.ready;
    },
    get applied(): number {
      return applied;
    },
  };
}
export type StatusRelay = ReturnType<typeof createStatusRelay>;
