import type { Logger } from "../../shared/logger.ts";
import { uuidv7Floor } from "../../shared/uuid7.ts";
import type { HistoryDb } from "../history/history-db.ts";
import type { Purger } from "./purge-generation.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const BATCH = 200;

export interface RetentionOptions {
  /** RETENTION_DAYS; 0 keeps everything and the sweep does nothing. */
  days: number;
  history: Pick<HistoryDb, "listOlderThan">;
  purger: Pick<Purger, "purge">;
  logger: Logger;
  intervalMs?: number;
  now?: () => number;
}

/**
 * RETENTION_DAYS as a periodic job of the container tier (the history writer runs it): every
 * generation created more than N days ago is deleted exactly as its owner's DELETE would (Redis,
 * history rows, log, image and thumbnail). Ids are UUIDv7, so "older than" is an id range on the
 * primary key. Sweeps of several instances may overlap: each deletion is idempotent.
 */
export function createRetention(options: RetentionOptions) {
  const { history, purger, logger } = options;
  const now = options.now ?? Date.now;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<unknown> | null = null;
  let stopped = false;

  async function sweep(): Promise<number> {
    if (options.days === 0) return 0;
    const cutoff = uuidv7Floor(now() - options.days * DAY_MS);
    let deleted = 0;
    for (;;) {
      const old = await history.listOlderThan(cutoff, BATCH);
      for (const record of old) if (await purger.purge(record.id, record.userId)) deleted++;
      if (old.length < BATCH || stopped) break;
    }
    if (deleted > 0) logger.info("retention deleted old generations", { deleted, days: options.days });
    return deleted;
  }

  const loop = () => {
    if (stopped) return;
    running = sweep()
      .catch((error) => logger.warn("retention sweep failed; will try again", { error }))
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 60 * 60 * 1000);
      });
  };

  return {
    sweep,
    /** Sweeps now, then every interval (hourly by default). */
    start(): void {
      if (options.days > 0) loop();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
