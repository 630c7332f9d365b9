/**
 * What the twin does when a job ends, as ours does for every generation: the generation's
 * snapshot moves to its ending (which frees the user's in-flight place and the queue entry the
 * shared edge wrote at submit, so reads and caps work as ours), and its row and log lines go to
 * the same history database (worker/history/history-db.ts). Without them the twin skipped work
 * ours does per generation, its reads said "queued" for a week and its users' caps never emptied.
 *
 * Written where a BullMQ product would write it, at the end of the job, and no more work than
 * ours does: one snapshot script per generation, ours' APPLY_STATUS (ours applies every event),
 * and the history batched about as ours' writer batches it (it waits up to a second for a fetch
 * to fill; here a second or HISTORY_BATCH_MAX endings, in one transaction), with no event stream
 * to read. The worker hands the transaction to a thread (history-thread.ts), as ours keeps it
 * out of the workers' processes. Like ours' batch path it leaves out generations deleted
 * meanwhile (one tombstone lookup per batch; ours looks again after the write and discards their
 * images). Unlike ours a failed write is logged, not retried: the bench counts generations.
 */
import type { StatusEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { HistoryDb } from "../../worker/history/history-db.ts";
import type { TerminalEvent } from "../../worker/history/history-record.ts";
import type { Tombstones } from "../../worker/lifecycle/tombstones.ts";
import type { SnapshotWriter } from "../../worker/relay/snapshot-writer.ts";

/** Ours' history writer waits up to a second for a fetch to fill (history-writer.ts). */
const HISTORY_FLUSH_MS = 1000;
export const HISTORY_BATCH_MAX = 256;

export interface TwinEndings {
  /** Applies `status` (the ending) to the snapshot; queues `end` and `logs` for the history. */
  ended(end: TerminalEvent, status: StatusEvent, logs: readonly StatusEvent[]): void;
  /** Queues an attempt's log lines that ended in a retry. */
  logged(logs: readonly StatusEvent[]): void;
  /** Writes what is queued; safe to call twice. */
  close(): Promise<void>;
}

export function twinEndings(deps: {
  history: Pick<HistoryDb, "recordMany">;
  snapshots: Pick<SnapshotWriter, "applyStatus">;
  tombstones: Pick<Tombstones, "deletedAmong">;
  logger: Logger;
  flushMs?: number;
}): TwinEndings {
  const { history, snapshots, tombstones, logger } = deps;
  let ends: TerminalEvent[] = [];
  let logs: StatusEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let written: Promise<void> = Promise.resolve();
  const applying = new Set<Promise<void>>();

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (ends.length === 0 && logs.length === 0) return;
    const batch = { ends, logs };
    ends = [];
    logs = [];
    const write = async () => {
      const deleted = await tombstones.deletedAmong([...batch.ends, ...batch.logs].map((event) => event.id));
      const kept = <T extends { id: string }>(events: T[]) => events.filter((event) => !deleted.has(event.id));
      await history.recordMany({ ends: kept(batch.ends), logs: kept(batch.logs) });
    };
    written = written.then(write).then(
      () => {},
      (error: unknown) => logger.warn("twin history not written", { error, generations: batch.ends.length }),
    );
  };
  const queue = (lines: readonly StatusEvent[]) => {
    logs.push(...lines);
    if (ends.length >= HISTORY_BATCH_MAX) flush();
    else timer ??= setTimeout(flush, deps.flushMs ?? HISTORY_FLUSH_MS);
  };

  return {
    ended(end, status, lines) {
      const applied: Promise<void> = snapshots
        .applyStatus(status)
        .then(
          () => {},
          (error: unknown) => logger.warn("twin snapshot not ended", { error, generation: status.id }),
        )
        .finally(() => applying.delete(applied));
      applying.add(applied);
      ends.push(end);
      queue(lines);
    },
    logged: queue,
    async close() {
      flush();
      await Promise.all([written, ...applying]);
    },
  };
}
