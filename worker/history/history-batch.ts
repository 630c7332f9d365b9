/**
 * The history writer's fast path: a fetched batch of one partition written in one transaction
 * (`HistoryDb.recordMany`), with one pipelined tombstone lookup before it and one after. One
 * commit per batch instead of one per row: per row, the commit (an fsync on SQLite, a round trip
 * on PostgreSQL) was most of the writer's CPU (`npx bun bench/profile-stack.ts generate ours`).
 *
 * It only ever does what handling each message on its own would do, and says which messages it
 * did: a message it did not do (not valid, of a deleted generation, or the whole batch when the
 * transaction failed) is left to the writer's one-at-a-time path, which parks, drops or retries
 * it exactly as before. A failed transaction wrote nothing, so nothing is done twice.
 */
import type { InOrderMessage } from "../kafka/in-order-consumer.ts";
import type { Tombstones } from "../lifecycle/tombstones.ts";
import type { HistoryDb } from "./history-db.ts";
import type { TerminalEvent } from "./history-record.ts";

type StatusEvent = Extract<TerminalEvent, { seq: number }>;

/** What the batch did for one message: wrote its row (`inserted` when new) and log line, or nothing was needed. */
export interface BatchWritten {
  ends: boolean;
  inserted: boolean;
}

export interface HistoryBatchDeps {
  history: Pick<HistoryDb, "recordMany">;
  tombstones: Pick<Tombstones, "deletedAmong">;
  /** The message's event, or null when it is not valid (the one-at-a-time path parks it). */
  decode(message: InOrderMessage): TerminalEvent | null;
  /** Whether this event ends its generation (a row), else it can only carry a log line. */
  ends(event: TerminalEvent): boolean;
}

/** Writes `messages` together; resolves what it did, by offset. Rejects only when it did nothing. */
export async function writeHistoryBatch(
  messages: readonly InOrderMessage[],
  deps: HistoryBatchDeps,
): Promise<Map<string, BatchWritten>> {
  const done = new Map<string, BatchWritten>();
  const writes: { offset: string; event: TerminalEvent; ends: boolean }[] = [];
  for (const message of messages) {
    const event = deps.decode(message);
    if (!event) continue;
    const ends = deps.ends(event);
    // Progress without a log line writes nothing: done as it is.
    if (!ends && !("seq" in event && event.log)) done.set(message.offset, { ends: false, inserted: false });
    else writes.push({ offset: message.offset, event, ends });
  }
  if (writes.length === 0) return done;

  const deletedBefore = await deps.tombstones.deletedAmong(writes.map((w) => w.event.id));
  const kept = writes.filter((w) => !deletedBefore.has(w.event.id));
  if (kept.length === 0) return done;
  const inserted = await deps.history.recordMany({
    ends: kept.filter((w) => w.ends).map((w) => w.event),
    logs: kept.flatMap((w) => ("seq" in w.event ? [w.event as StatusEvent] : [])),
  });
  // A deletion that ran while the batch was written: those are left to the one-at-a-time path,
  // which writes nothing new (the rows are there) and then removes them, so it is never undone.
  const deletedAfter = await deps.tombstones.deletedAmong(kept.map((w) => w.event.id));
  for (const w of kept) {
    if (deletedAfter.has(w.event.id)) continue;
    // Counted once, should one id end twice in a batch.
    const isNew = w.ends && inserted.delete(w.event.id);
    done.set(w.offset, { ends: w.ends, inserted: isNew });
  }
  return done;
}
