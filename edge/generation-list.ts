import type { GenerationRecord } from "../shared/history.ts";
import { ENDINGS, type Ending, type JobStatus } from "../shared/job-states.ts";
import type { StoredSnapshot } from "../shared/snapshot.ts";
import type { GenerationStore } from "./generation-store.ts";
import type { HistoryClient } from "./history-client.ts";

export interface ListQuery {
  limit: number;
  /** The previous page's last id: only older generations. */
  cursor?: string;
  statuses?: readonly JobStatus[];
  /** Id bounds of the date filter: from `from` (inclusive) to `before` (exclusive). */
  from?: string;
  before?: string;
}

/** One listed generation: live from Redis, or ended and served from the durable history. */
export type Listed = { id: string; live: StoredSnapshot } | { id: string; record: GenerationRecord };

const MAX_SCAN_BATCH = 200;

/**
 * A page of the user's generations across both stores with one cursor, newest first. Redis
 * holds the recent ones (live state, 7 days); the history holds every ended one. Both are
 * ordered by id (UUIDv7: creation time), so the page is the first `limit` ids below the cursor
 * in their union, and the cursor is the last id returned. Where both know an id, Redis wins: it
 * is the newer word (a replayed generation), and the status filter applies to what wins.
 */
export async function listGenerations(
  store: GenerationStore,
  history: HistoryClient,
  userId: string,
  query: ListQuery,
): Promise<{ items: Listed[]; nextCursor: string | null }> {
  const { limit } = query;
  const upper = [query.cursor, query.before].filter((b): b is string => b !== undefined).sort()[0];
  const wanted = (status: JobStatus) => query.statuses === undefined || query.statuses.includes(status);
  const found = new Map<string, Listed>();
  const known = new Set<string>();
  const take = (snapshot: StoredSnapshot | null, id: string): boolean => {
    if (!snapshot || snapshot.userId !== userId) return false;
    known.add(id);
    if (wanted(snapshot.status)) found.set(id, { id, live: snapshot });
    return true;
  };

  // Redis, newest first, until limit + 1 matches or the index ends.
  const batch = Math.min(MAX_SCAN_BATCH, Math.max(limit + 1, 50));
  for (let before = upper; ; ) {
    const ids = await store.listIds(userId, batch, before, query.from);
    const snapshots = await store.getMany(ids);
    ids.forEach((id, i) => {
      take(snapshots[i] ?? null, id);
    });
    if (ids.length < batch || found.size >= limit + 1) break;
    before = ids.at(-1);
  }

  // The history, for what Redis no longer (or never, once ended) holds.
  const endings = query.statuses?.filter((s): s is Ending => (ENDINGS as readonly string[]).includes(s));
  if (endings === undefined || endings.length > 0) {
    for (let before = upper; ; ) {
      const rows = await history.list(userId, {
        limit: limit + 1,
        ...(before ? { before } : {}),
        ...(query.from ? { from: query.from } : {}),
        ...(endings ? { statuses: endings } : {}),
      });
      const unseen = rows.filter((r) => !known.has(r.id));
      const live = await store.getMany(unseen.map((r) => r.id));
      unseen.forEach((row, i) => {
        if (!take(live[i] ?? null, row.id)) found.set(row.id, { id: row.id, record: row });
      });
      const last = rows.at(-1)?.id;
      if (rows.length < limit + 1 || last === undefined) break;
      // Rows further down cannot reach the page once limit + 1 found ones are at least as new.
      if ([...found.keys()].filter((id) => id >= last).length >= limit + 1) break;
      before = last;
    }
  }

  const all = [...found.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const items = all.slice(0, limit);
  return { items, nextCursor: all.length > limit ? (items.at(-1)?.id ?? null) : null };
}
