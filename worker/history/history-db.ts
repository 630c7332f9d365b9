/**
 * The one module that imports the database drivers: SQLite through Bun's built-in bun:sqlite
 * (local runs, `file:` URLs) and PostgreSQL through Bun's built-in SQL client (production,
 * `postgres:` URLs), both behind drizzle and the same small repository of generation history.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SQL } from "bun";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { drizzle as drizzlePostgres } from "drizzle-orm/bun-sql";
import { drizzle as drizzleSqlite } from "drizzle-orm/bun-sqlite";
import { errorMessage, PipelineError, ProgrammerError } from "../../shared/errors.ts";
import { type GenerationRecord, recordOf, rowOf, type TerminalEvent } from "./history-record.ts";
import {
  createStatements,
  type GenerationRow,
  pgGenerations,
  pgShape,
  sqliteGenerations,
  sqliteShape,
} from "./history-schema.ts";

export interface ListOptions {
  limit: number;
  /** An id: only generations older than it (the previous page's last id). */
  before?: string;
}

export interface HistoryDb {
  readonly dialect: "sqlite" | "postgres";
  /** Inserts the event's row; false when its id is already recorded, which then stays as it was. */
  record(event: TerminalEvent): Promise<boolean>;
  get(id: string): Promise<GenerationRecord | null>;
  /** The user's generations, newest first (UUIDv7 ids sort by creation time). */
  listByUser(userId: string, options: ListOptions): Promise<GenerationRecord[]>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

/** What differs between the dialects: three queries and closing the client. */
interface RowStore {
  insertIgnore(row: GenerationRow): Promise<boolean>;
  byId(id: string): Promise<GenerationRow | undefined>;
  byUser(userId: string, limit: number, before: string | undefined): Promise<GenerationRow[]>;
  close(): Promise<void>;
}

export const MAX_LIST_LIMIT = 1000;
/** Serialises table creation between processes starting together (CREATE … IF NOT EXISTS races in Postgres). */
const MIGRATION_LOCK = 7_014_582_913;
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** `file:relative/path`, `file:/abs/path` or `file:///abs/path` → an absolute filesystem path. */
export function sqlitePath(databaseUrl: string): string {
  const path = databaseUrl.startsWith("file://")
    ? fileURLToPath(databaseUrl)
    : databaseUrl.startsWith("file:")
      ? databaseUrl.slice("file:".length)
      : "";
  if (path === "") throw new ProgrammerError(`not a SQLite file URL: "${databaseUrl}"`);
  return resolve(path);
}

function openSqlite(path: string): RowStore {
  mkdirSync(dirname(path), { recursive: true });
  const client = new Database(path, { create: true, readwrite: true });
  try {
    // WAL lets API readers run while the writer inserts; busy_timeout waits out a concurrent writer.
    client.run("PRAGMA journal_mode = WAL");
    client.run(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    const db = drizzleSqlite({ client });
    db.transaction((tx) => {
      for (const statement of createStatements(sqliteShape())) tx.run(sql.raw(statement));
    });
    const t = sqliteGenerations;
    return {
      insertIgnore: async (row) =>
        db.insert(t).values(row).onConflictDoNothing({ target: t.id }).returning({ id: t.id }).all().length > 0,
      byId: async (id) => db.select().from(t).where(eq(t.id, id)).get(),
      byUser: async (userId, limit, before) =>
        db
          .select()
          .from(t)
          .where(and(eq(t.userId, userId), before === undefined ? undefined : lt(t.id, before)))
          .orderBy(desc(t.id))
          .limit(limit)
          .all(),
      close: async () => client.close(),
    };
  } catch (error) {
    client.close();
    throw error;
  }
}

async function openPostgres(url: string): Promise<RowStore> {
  const client = new SQL(url);
  try {
    const db = drizzlePostgres({ client });
    await db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      for (const statement of createStatements(pgShape())) await tx.execute(sql.raw(statement));
    });
    const t = pgGenerations;
    return {
      insertIgnore: async (row) =>
        (await db.insert(t).values(row).onConflictDoNothing({ target: t.id }).returning({ id: t.id })).length > 0,
      byId: async (id) => (await db.select().from(t).where(eq(t.id, id)))[0],
      byUser: (userId, limit, before) =>
        db
          .select()
          .from(t)
          .where(and(eq(t.userId, userId), before === undefined ? undefined : lt(t.id, before)))
          .orderBy(desc(t.id))
          .limit(limit),
      close: () => client.close(),
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** The SQLSTATE of a PostgreSQL error, looked for through drizzle's wrapping. */
function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const errno = (current as { errno?: unknown }).errno;
    if (typeof errno === "string" && /^[0-9A-Z]{5}$/.test(errno)) return errno;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * SQLSTATE classes that refuse the statement for what it carries (22 data exception, e.g. a NUL
 * in text; 23 integrity; 42 syntax or access): sending it again fails again.
 */
const REFUSES_CONTENT = /^(22|23|42)/;

/**
 * A failure here is the database being unreachable, locked or full, and callers may retry (the
 * history writer waits it out before its offset moves): inserts ignore conflicts, so a
 * statement rarely fails on its content. When it does (PostgreSQL says so with its SQLSTATE),
 * or our own code throws, trying again cannot help, and the error says so.
 */
async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    const state = sqlState(error);
    if (state && REFUSES_CONTENT.test(state))
      throw new PipelineError("history_rejected", `${what}: ${errorMessage(error)}`, { cause: error });
    throw new PipelineError("database_unavailable", `${what}: ${errorMessage(error)}`, {
      retryable: true,
      cause: error,
    });
  }
}

/** Opens (creating when missing) the database named by DATABASE_URL and its `generations` table. */
export async function openHistoryDb(databaseUrl: string): Promise<HistoryDb> {
  const protocol = /^[a-z]+:/i.exec(databaseUrl)?.[0].toLowerCase();
  if (protocol !== "file:" && protocol !== "postgres:" && protocol !== "postgresql:") {
    throw new ProgrammerError(`DATABASE_URL must be a file:, postgres: or postgresql: URL`);
  }
  const dialect = protocol === "file:" ? "sqlite" : "postgres";
  const store = await guarded(`opening the ${dialect} history database`, async () =>
    dialect === "sqlite" ? openSqlite(sqlitePath(databaseUrl)) : openPostgres(databaseUrl),
  );
  let closing: Promise<void> | null = null;
  return {
    dialect,
    record: (event) => guarded(`recording generation ${event.id}`, () => store.insertIgnore(rowOf(event))),
    get: (id) =>
      guarded(`reading generation ${id}`, async () => {
        const row = await store.byId(id);
        return row ? recordOf(row) : null;
      }),
    listByUser: (userId, { limit, before }) => {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
        return Promise.reject(
          new ProgrammerError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`),
        );
      }
      return guarded(`listing the generations of ${userId}`, async () =>
        (await store.byUser(userId, limit, before)).map(recordOf),
      );
    },
    close() {
      closing ??= store.close();
      return closing;
    },
  };
}
