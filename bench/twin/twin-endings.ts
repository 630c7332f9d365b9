/**
 * What the twin does when a job ends, as ours does for every generation: the generation's
 * snapshot moves to its ending (which frees the user's in-flight place and the queue entry the
 * shared edge wrote at submit, so reads and caps work as ours), and its row and log lines go to
 * the same history database (worker/history/history-db.ts). Without them the twin skipped work
 * ours does per generation, its reads said "queued" for a week and its users' caps never emptied.
 *
 * The cheapest honest form, written where a BullMQ product would write it, at the end of the job:
 * one snapshot script per generation, ours' APPLY_STATUS (ours applies every event), and every
 * end of one event-loop turn in one history transaction (ours writes one per fetched batch),
 * without a second process or an event stream to read. A failed write is logged, not retried.
 */
import type { StatusEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { HistoryDb } from "../../worker/history/history-db.ts";
import type { TerminalEvent } from "../../worker/history/history-record.ts";
import type { SnapshotWriter } from "../../worker/relay/snapshot-writer.ts";

export interface TwinEndings {
  /** Applies `status` (the ending) to the snapshot; queues `end` and `logs` for the next history write. */
  ended(end: TerminalEvent, status: StatusEvent, logs: readonly StatusEvent[]): void;
  /** Writes what is queued; safe to call twice. */
  close(): Promise<void>;
}

export function twinEndings(deps: {
  history: Pick<HistoryDb, "recordMany">;
  snapshots: Pick<SnapshotWriter, "applyStatus">;
  logger: Logger;
}): TwinEndings {
  const { history, snapshots, logger } = deps;
  let ends: TerminalEvent[] = [];
  let logs: StatusEvent[] = [];
  let scheduled = false;
  let written: Promise<void> = Promise.resolve();
  const applying = new Set<Promise<void>>();

  const flush = () => {
    scheduled = false;
    // close() may have written the turn's batch before its own flush ran.
    if (ends.length === 0) return;
    const batch = { ends, logs };
    ends = [];
    logs = [];
    written = written
      .then(() => history.recordMany(batch))
      .then(
        () => {},
        (error: unknown) => logger.warn("twin history not written", { error, generations: batch.ends.length }),
      );
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
      logs.push(...lines);
      if (scheduled) return;
      scheduled = true;
      setImmediate(flush);
    },
    async close() {
      if (scheduled) flush();
      await Promise.all([written, ...applying]);
    },
  };
}
