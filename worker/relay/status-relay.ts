import { RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import { createInOrderConsumer, type InOrderMessage } from "../kafka/in-order-consumer.ts";
import { invalidEvent } from "../kafka/invalid-event.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import { createPrefetched } from "../kafka/prefetched.ts";
import type { SnapshotWriter } from "./snapshot-writer.ts";

export interface StatusRelayOptions {
  kafka: Kafka;
  groupId: string;
  topics: { requests: string; status: string };
  writer: SnapshotWriter;
  deadLetters: Pick<DeadLetters, "park">;
  logger: Logger;
  observe?: RelayObserver;
  /** KAFKA_SESSION_TIMEOUT_MS of the group. */
  sessionTimeoutMs?: number;
  onLag?(topic: string, partition: number, lag: number): void;
}

/**
 * Workers apply their own status events to Redis (the live path: progress as they write it to
 * Kafka, the terminal event once Kafka has it), and the edge records each request with its Kafka
 * position before it answers, so the relay is the second writer: it applies from the record what a
 * worker or the edge could not (their writes are best effort). Up to a second behind is fine for that, and waiting for 64 KiB per fetch cut the
 * relay's and the broker's CPU per generation under load by about two thirds
 * (`npx bun bench/stack-cpu.ts ours`).
 */
const RELAY_FETCH_MIN_BYTES = 64 * 1024;

/** What the relay reports for metrics: each event's result, and the time of each Lua write. */
export interface RelayObserver {
  event(topic: "requests" | "status", result: "applied" | "stale" | "invalid"): void;
  lua(script: "apply_request" | "apply_status", seconds: number): void;
}

/**
 * Feeds Redis from Kafka: request events create queued snapshots, status events move them on.
 * Every write is idempotent (guarded by `kseq`), so redelivery after a crash is harmless and
 * offsets can be committed after each batch.
 */
export function createStatusRelay(options: StatusRelayOptions) {
  const { topics, writer, logger } = options;
  let applied = 0;
  const observe = options.observe;
  const timed = async <T>(script: "apply_request" | "apply_status", write: () => Promise<T>): Promise<T> => {
    const began = performance.now();
    try {
      return await write();
    } finally {
      observe?.lua(script, (performance.now() - began) / 1000);
    }
  };

  type Written = { topic: "requests" } | { topic: "status"; published: boolean };

  // A message that does not decode, or that Redis refuses the same way every time, is parked.
  async function write({ topic, partition, offset, value }: InOrderMessage): Promise<Written> {
    if (topic === topics.requests) {
      const parsed = RequestEvent.decode(value);
      if (!parsed.ok) {
        observe?.event("requests", "invalid");
        throw invalidEvent(RequestEvent, parsed.issues);
      }
      await timed("apply_request", () => writer.applyRequest(parsed.value, partition, offset));
      return { topic: "requests" };
    }
    const parsed = StatusEvent.decode(value);
    if (!parsed.ok) {
      observe?.event("status", "invalid");
      throw invalidEvent(StatusEvent, parsed.issues);
    }
    const published = await timed("apply_status", () => writer.applyStatus(parsed.value));
    return { topic: "status", published: published !== null };
  }

  /**
   * Writes started for a fetched batch. They are sent back to back on the one command
   * connection, so Redis runs them in offset order; a dropped connection fails the ones it had
   * not answered, and those are retried in order (a repeated apply is a no-op).
   */
  const started = createPrefetched<Written>();

  function prefetch(messages: InOrderMessage[]): void {
    started.set(messages, new Map(messages.map((message) => [message.offset, write(message)])));
  }

  async function handle(message: InOrderMessage): Promise<void> {
    // A retry (after the early write failed) writes afresh.
    const written = await (started.take(message) ?? write(message));
    if (written.topic === "requests") {
      observe?.event("requests", "applied");
      return;
    }
    if (written.published) applied++;
    observe?.event("status", written.published ? "applied" : "stale");
  }

  const consumer = createInOrderConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [topics.requests, topics.status],
    handle,
    prefetch,
    deadLetters: options.deadLetters,
    logger,
    sessionTimeoutMs: options.sessionTimeoutMs,
    fetchMinBytes: RELAY_FETCH_MIN_BYTES,
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
    get applied(): number {
      return applied;
    },
  };
}
export type StatusRelay = ReturnType<typeof createStatusRelay>;
