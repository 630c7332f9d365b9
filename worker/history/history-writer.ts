import { CompleteEvent, FailedEvent, StatusEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import { createInOrderConsumer, type InOrderMessage } from "../kafka/in-order-consumer.ts";
import { invalidEvent } from "../kafka/invalid-event.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import { createPrefetched } from "../kafka/prefetched.ts";
import type { Tombstones } from "../lifecycle/tombstones.ts";
import { type BatchWritten, writeHistoryBatch } from "./history-batch.ts";
import type { HistoryDb } from "./history-db.ts";
import type { TerminalEvent } from "./history-record.ts";

export interface HistoryWriterOptions {
  kafka: Kafka;
  /** KAFKA_HISTORY_GROUP: its own group, so history reads every terminal event independently of other consumers. */
  groupId: string;
  topics: { complete: string; failed: string; status: string };
  history: Pick<HistoryDb, "record" | "recordLog" | "recordMany" | "remove">;
  tombstones: Pick<Tombstones, "isDeleted" | "deletedAmong">;
  /** Removes the images of a generation deleted before its complete event got here. */
  discardImages(keys: string[], generationId: string): Promise<void>;
  deadLetters: Pick<DeadLetters, "park">;
  logger: Logger;
  observe?(result: "inserted" | "duplicate" | "invalid", seconds: number): void;
  /** KAFKA_SESSION_TIMEOUT_MS of the group. */
  sessionTimeoutMs?: number;
  onLag?(topic: string, partition: number, lag: number): void;
}

/**
 * The history is a durable copy that may be a second behind Redis (which serves every recent
 * generation): fetches wait for 256 KiB, so a burst is read in a few full batches, not one
 * fetch and commit per event (about half this process's CPU per generation, and much of the
 * broker's; `npx bun bench/stack-cpu.ts ours`).
 */
const HISTORY_FETCH_MIN_BYTES = 256 * 1024;

const imagesOf = (event: TerminalEvent): string[] =>
  "completedAt" in event ? [event.image.key, ...(event.thumbnail ? [event.thumbnail.key] : [])] : [];

/**
 * Copies how generations end from Kafka (7 days' retention) into the durable history database:
 * complete and failed events, the `canceled`/`expired` status events, and every log line status
 * events carry. An offset is resolved only after its row is written, and a redelivered event
 * finds its id already recorded and changes nothing: at least once in, exactly one row out. A
 * database outage is waited out before the offset moves; an event that is not valid is parked
 * on the dead-letter topic and passed. A deleted generation's events are dropped; the tombstone
 * is checked again after each write, so a deletion that ran in between is never undone. Each
 * fetched batch is first written in a few transactions (history-batch.ts); whatever it left
 * undone is handled one message at a time.
 */
export function createHistoryWriter(options: HistoryWriterOptions) {
  const { topics, history, tombstones, logger } = options;
  let recorded = 0;

  async function drop(event: TerminalEvent): Promise<void> {
    await history.remove(event.id);
    await options.discardImages(imagesOf(event), event.id);
  }

  async function dropDeleted(event: TerminalEvent): Promise<boolean> {
    if (!(await tombstones.isDeleted(event.id))) return false;
    await drop(event);
    return true;
  }

  const definitionOf = (topic: string) =>
    topic === topics.complete ? CompleteEvent : topic === topics.failed ? FailedEvent : StatusEvent;
  const endsGeneration = (event: TerminalEvent) =>
    !("seq" in event) || event.status === "canceled" || event.status === "expired";

  /** What each fetched batch did, by message: null for a message it left to `handleOne`. */
  const started = createPrefetched<BatchWritten | null>();

  function prefetch(messages: InOrderMessage[]): void {
    const written = writeHistoryBatch(messages, {
      history,
      tombstones,
      decode: ({ topic, value }) => {
        const parsed = definitionOf(topic).decode(value);
        return parsed.ok ? parsed.value : null;
      },
      ends: endsGeneration,
      drop,
      logger,
    });
    // It does not reject (what it did not do is left to `handleOne`); a bug of ours would, and
    // its messages are then handled one at a time.
    started.set(messages, new Map(messages.map((m) => [m.offset, written.then((done) => done.get(m.offset) ?? null)])));
  }

  async function handle(message: InOrderMessage): Promise<void> {
    const done = await started.take(message)?.catch(() => null);
    if (done) {
      if (done.ends) options.observe?.(done.inserted ? "inserted" : "duplicate", done.seconds);
      if (done.inserted) recorded++;
      return;
    }
    await handleOne(message);
  }

  async function handleOne({ topic, partition, offset, value }: InOrderMessage): Promise<void> {
    const definition = definitionOf(topic);
    const parsed = definition.decode(value);
    if (!parsed.ok) {
      options.observe?.("invalid", 0);
      // Parked on the dead-letter topic by the consumer; a database outage is retried instead.
      throw invalidEvent(definition, parsed.issues);
    }
    const event: TerminalEvent = parsed.value;
    const ends = endsGeneration(event);
    // Most status events are progress without a log line: nothing to write, no lookup.
    if (!ends && !("seq" in event && event.log)) return;
    if (await dropDeleted(event)) return;
    if ("seq" in event) await history.recordLog(event);
    if (ends) {
      // SQLite writes hold the event loop (up to its busy timeout each): a turn between the two
      // keeps a process blocked by one at a time, within the supervisor's hang limit.
      await new Promise((resolve) => setImmediate(resolve));
      const began = performance.now();
      const inserted = await history.record(event);
      options.observe?.(inserted ? "inserted" : "duplicate", (performance.now() - began) / 1000);
      if (inserted) recorded++;
      else logger.debug("generation already recorded", { id: event.id, topic, partition, offset });
    }
    await dropDeleted(event);
  }

  const consumer = createInOrderConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [topics.complete, topics.failed, topics.status],
    handle,
    prefetch,
    deadLetters: options.deadLetters,
    logger,
    sessionTimeoutMs: options.sessionTimeoutMs,
    fetchMinBytes: HISTORY_FETCH_MIN_BYTES,
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
