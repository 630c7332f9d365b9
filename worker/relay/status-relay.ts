import { RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import { createInOrderConsumer, type InOrderMessage } from "../kafka/in-order-consumer.ts";
import { invalidEvent } from "../kafka/invalid-event.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import type { SnapshotWriter } from "./snapshot-writer.ts";

export interface StatusRelayOptions {
  kafka: Kafka;
  groupId: string;
  topics: { requests: string; status: string };
  writer: SnapshotWriter;
  deadLetters: Pick<DeadLetters, "park">;
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

  // A message that does not decode, or that Redis refuses the same way every time, is parked.
  async function handle({ topic, partition, offset, value }: InOrderMessage): Promise<void> {
    if (topic === topics.requests) {
      const parsed = RequestEvent.decode(value);
      if (!parsed.ok) throw invalidEvent(RequestEvent, parsed.issues);
      await writer.applyRequest(parsed.value, partition, offset);
      return;
    }
    const parsed = StatusEvent.decode(value);
    if (!parsed.ok) throw invalidEvent(StatusEvent, parsed.issues);
    if (await writer.applyStatus(parsed.value)) applied++;
  }

  const consumer = createInOrderConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [topics.requests, topics.status],
    handle,
    deadLetters: options.deadLetters,
    logger,
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
    get applied(): number {
      return applied;
    },
  };
}
export type StatusRelay = ReturnType<typeof createStatusRelay>;
