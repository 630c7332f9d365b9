import { and, asc, desc, eq, gte, inArray, lt, ne, or } from "drizzle-orm";
import type { PostgresDb } from "./history-db.ts";
import { pgGenerationLogs as logs, pgGenerations as t } from "./history-schema.ts";
import { type RowQuery, type RowStore, statementChunks } from "./row-store.ts";

/** The history's queries on PostgreSQL (drizzle over Bun's SQL client, opened in history-db.ts). */
export function postgresRows(db: PostgresDb, close: () => Promise<void>): RowStore {
  const ofUser = (userId: string, q: RowQuery) =>
    and(
      eq(t.userId, userId),
      q.before === undefined ? undefined : lt(t.id, q.before),
      q.from === undefined ? undefined : gte(t.id, q.from),
      q.statuses === undefined ? undefined : inArray(t.status, [...q.statuses]),
    );
  return {
    insertIgnore: async (row) =>
      (await db.insert(t).values(row).onConflictDoNothing({ target: t.id }).returning({ id: t.id })).length > 0,
    insertLogIgnore: async (row) =>
      (await db.insert(logs).values(row).onConflictDoNothing({ target: logs.id }).returning({ id: logs.id })).length >
      0,
    // One transaction of multi-row statements: a round trip per statement, not per row.
    insertManyIgnore: (rows, logRows) =>
      db.transaction(async (tx) => {
        for (const chunk of statementChunks(logRows))
          await tx.insert(logs).values(chunk).onConflictDoNothing({ target: logs.id });
        const inserted = new Set<string>();
        for (const chunk of statementChunks(rows))
          for (const { id } of await tx
            .insert(t)
            .values(chunk)
            .onConflictDoNothing({ target: t.id })
            .returning({ id: t.id }))
            inserted.add(id);
        return inserted;
      }),
    byId: async (id) => (await db.select().from(t).where(eq(t.id, id)))[0],
    byUser: (userId, q) => db.select().from(t).where(ofUser(userId, q)).orderBy(desc(t.id)).limit(q.limit),
    logsOf: (id) => db.select().from(logs).where(eq(logs.generationId, id)).orderBy(asc(logs.seq)),
    remove: async (id) => {
      await db.transaction(async (tx) => {
        await tx.delete(logs).where(eq(logs.generationId, id));
        await tx.delete(t).where(eq(t.id, id));
      });
    },
    referencing: async (key, exceptId) =>
      (
        await db
          .select({ id: t.id })
          .from(t)
          .where(and(or(eq(t.imageKey, key), eq(t.thumbnailKey, key)), ne(t.id, exceptId)))
          .limit(1)
      ).length > 0,
    olderThan: (beforeId, limit) => db.select().from(t).where(lt(t.id, beforeId)).orderBy(asc(t.id)).limit(limit),
    close,
  };
}
