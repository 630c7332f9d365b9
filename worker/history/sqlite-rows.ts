import { and, asc, desc, eq, gte, inArray, lt, ne, or } from "drizzle-orm";
import type { SqliteDb } from "./history-db.ts";
import { sqliteGenerationLogs as logs, sqliteGenerations as t } from "./history-schema.ts";
import { type RowQuery, type RowStore, statementChunks } from "./row-store.ts";

/** The history's queries on SQLite (drizzle over bun:sqlite; the client is opened in history-db.ts). */
export function sqliteRows(db: SqliteDb, close: () => void): RowStore {
  const ofUser = (userId: string, q: RowQuery) =>
    and(
      eq(t.userId, userId),
      q.before === undefined ? undefined : lt(t.id, q.before),
      q.from === undefined ? undefined : gte(t.id, q.from),
      q.statuses === undefined ? undefined : inArray(t.status, [...q.statuses]),
    );
  return {
    insertIgnore: async (row) =>
      db.insert(t).values(row).onConflictDoNothing({ target: t.id }).returning({ id: t.id }).all().length > 0,
    insertLogIgnore: async (row) =>
      db.insert(logs).values(row).onConflictDoNothing({ target: logs.id }).returning({ id: logs.id }).all().length > 0,
    // One transaction, so one commit (and one fsync) for the lot instead of one per row.
    insertManyIgnore: async (rows, logRows) =>
      db.transaction((tx) => {
        for (const chunk of statementChunks(logRows))
          tx.insert(logs).values(chunk).onConflictDoNothing({ target: logs.id }).run();
        const inserted = new Set<string>();
        for (const chunk of statementChunks(rows))
          for (const { id } of tx
            .insert(t)
            .values(chunk)
            .onConflictDoNothing({ target: t.id })
            .returning({ id: t.id })
            .all())
            inserted.add(id);
        return inserted;
      }),
    byId: async (id) => db.select().from(t).where(eq(t.id, id)).get(),
    byUser: async (userId, q) => db.select().from(t).where(ofUser(userId, q)).orderBy(desc(t.id)).limit(q.limit).all(),
    logsOf: async (id) => db.select().from(logs).where(eq(logs.generationId, id)).orderBy(asc(logs.seq)).all(),
    remove: async (id) => {
      db.transaction((tx) => {
        tx.delete(logs).where(eq(logs.generationId, id)).run();
        tx.delete(t).where(eq(t.id, id)).run();
      });
    },
    referencing: async (key, exceptId) =>
      db
        .select({ id: t.id })
        .from(t)
        .where(and(or(eq(t.imageKey, key), eq(t.thumbnailKey, key)), ne(t.id, exceptId)))
        .limit(1)
        .all().length > 0,
    olderThan: async (beforeId, limit) =>
      db.select().from(t).where(lt(t.id, beforeId)).orderBy(asc(t.id)).limit(limit).all(),
    close: async () => close(),
  };
}
