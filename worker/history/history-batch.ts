/**
 * The history writer's fast path: a fetched batch of one partition written in transactions of
 * up to WRITES_PER_TRANSACTION messages (`HistoryDb.recordMany`), each with one pipelined
 * tombstone lookup before it and one after. One commit per transaction instead of one per row:
 * per row, the commit (an fsync on SQLite, a round trip on PostgreSQL) was most of the writer's
 * CPU (`npx bun bench/profile-stack.ts generate ours`).
 *
 * It only ever does what handling each message on its own would do, and says which messages it
 * did: a message it did not do (not valid, of a generation deleted before the write, or a whole
 * transaction's worth when it failed) is left to the writer's one-at-a-time path, which parks,
 * drops or retries it exactly as before. A failed transaction wrote nothing, so nothing is done
 * twice.
 */
import type { StatusEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { InOrderMessage } from "../kafka/in-order-consumer.ts";
import type { Tombstones } from "../lifecycle/tombstones.ts";
import type { HistoryDb } from "./history-db.ts";
import type { TerminalEvent } from "./history-record.ts";

/**
 * Messages per transaction. SQLite's writes are synchronous: a transaction holds the event loop
 * for its length (about 15 µs a row), so a fetch of many small events is written in pieces with
 * a turn of the event loop between them, well within the supervisor's hang limit.
 */
const WRITES_PER_TRANSACTION = 1000;

/** What the batch did for one message; `ends` when it ended a generation, `inserted` when its row is new. */
export interface BatchWritten {
  ends: boolean;
  inserted: boolean;
  /** The write's time per generation row in it, for the writer's metric. */
  seconds: number;
}

export interface HistoryBatchDeps {
  history: Pick<HistoryDb, "recordMany">;
  tombstones: Pick<Tombstones, "deletedAmong">;
  /** The message's event, or null when it is not valid (the one-at-a-time path parks it). */
  decode(message: InOrderMessage): TerminalEvent | null;
  /** Whether this event ends its generation (a row), else it can only carry a log line. */
  ends(event: TerminalEvent): boolean;
  /** Removes a deleted generation's rows and the images it stored. */
  drop(event: TerminalEvent): Promise<void>;
  logger: Logger;
}

type Write = { offset: string; event: TerminalEvent; ends: boolean };

/** Writes `messages` together; resolves what it did, by offset. */
export async function writeHistoryBatch(
  messages: readonly InOrderMessage[],
  deps: HistoryBatchDeps,
): Promise<Map<string, BatchWritten>> {
  const done = new Map<string, BatchWritten>();
  const writes: Write[] = [];
  for (const message of messages) {
    const event = deps.decode(message);
    if (!event) continue;
    const ends = deps.ends(event);
    // Progress without a log line writes nothing: done as it is.
    if (!ends && !("seq" in event && event.log)) done.set(message.offset, { ends: false, inserted: false, seconds: 0 });
    else writes.push({ offset: message.offset, event, ends });
  }
  for (let i = 0; i < writes.length; i += WRITES_PER_TRANSACTION) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    try {
      await writeTogether(writes.slice(i, i + WRITES_PER_TRANSACTION), deps, done);
    } catch (error) {
      // Redis or the database failing: these messages go one at a time, which waits it out.
      deps.logger.warn("history batch not written; writing its events one at a time", { error });
    }
  }
  return done;
}

async function writeTogether(writes: Write[], deps: HistoryBatchDeps, done: Map<string, BatchWritten>) {
  const deletedBefore = await deps.tombstones.deletedAmong(writes.map((w) => w.event.id));
  const kept = writes.filter((w) => !deletedBefore.has(w.event.id));
  if (kept.length === 0) return;
  const began = performance.now();
  const inserted = await deps.history.recordMany({
    ends: kept.filter((w) => w.ends).map((w) => w.event),
    logs: kept.flatMap((w) => ("seq" in w.event ? [w.event as StatusEvent] : [])),
  });
  const seconds = (performance.now() - began) / 1000 / Math.max(1, kept.filter((w) => w.ends).length);
  // A deletion that ran while the rows were written is finished here, as the one-at-a-time path
  // would: whoever else handles these messages may have passed them already.
  const deletedAfter = await deps.tombstones.deletedAmong(kept.map((w) => w.event.id));
  const dropped = new Set<string>();
  for (const w of kept) {
    if (deletedAfter.has(w.event.id)) {
      if (!dropped.has(w.event.id)) await deps.drop(w.event);
      dropped.add(w.event.id);
      done.set(w.offset, { ends: false, inserted: false, seconds: 0 });
      continue;
    }
    // Counted once, should one id end twice in a batch.
    done.set(w.offset, { ends: w.ends, inserted: w.ends && inserted.delete(w.event.id), seconds });
  }
}
