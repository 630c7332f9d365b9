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
import { sql } from "drizzle-orm";
import { drizzle as drizzlePostgres } from "drizzle-orm/bun-sql";
import { drizzle as drizzleSqlite } from "drizzle-orm/bun-sqlite";
import { errorMessage, PipelineError, ProgrammerError } from "../../shared/errors.ts";
import {
  type GenerationLogEntry,
  type GenerationRecord,
  logEntryOf,
  logRowOf,
  recordOf,
  rowOf,
  type TerminalEvent,
} from "./history-record.ts";
import { createStatements, pgShapes, sqliteShapes, type TableShape, upgradeStatements } from "./history-schema.ts";
import { postgresRows } from "./postgres-rows.ts";
import type { RowQuery, RowStore } from "./row-store.ts";
import { sqliteRows } from "./sqlite-rows.ts";

export type ListOptions = RowQuery;
/** The drizzle databases the dialect query modules run on (the drivers stay imported here only). */
export type SqliteDb = ReturnType<typeof drizzleSqlite>;
export type PostgresDb = ReturnType<typeof drizzlePostgres>;
type StatusEvent = Extract<TerminalEvent, { seq: number }>;

export interface HistoryDb {
  readonly dialect: "sqlite" | "postgres";
  /**
   * Inserts the row of the generation this event ends; false when its id is already recorded
   * (the row then stays as it was) or the event ends nothing the history keeps.
   */
  record(event: TerminalEvent): Promise<boolean>;
  /** Inserts the log line a status event carries; false when it has none or it is recorded already. */
  recordLog(event: StatusEvent): Promise<boolean>;
  /**
   * `record` for each of `ends` and `recordLog` for each of `logs`, in one transaction: all are
   * written or none. Resolves the ids of the generations whose rows it inserted.
   */
  recordMany(batch: { ends: readonly TerminalEvent[]; logs: readonly StatusEvent[] }): Promise<Set<string>>;
  get(id: string): Promise<GenerationRecord | null>;
  /** The user's generations, newest first (UUIDv7 ids sort by creation time). */
  listByUser(userId: string, options: ListOptions): Promise<GenerationRecord[]>;
  /** The generation's log lines, oldest first. */
  logs(id: string): Promise<GenerationLogEntry[]>;
  /** Removes the generation's row and log lines; nothing happens when there are none. */
  remove(id: string): Promise<void>;
  /** Whether another generation's image or thumbnail is stored under `key` (stores share identical bytes). */
  isImageUsedElsewhere(key: string, exceptId: string): Promise<boolean>;
  /** Generations created before the generation id `beforeId` would be, oldest first. */
  listOlderThan(beforeId: string, limit: number): Promise<GenerationRecord[]>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

export const MAX_LIST_LIMIT = 1000;
/** Serialises table creation between processes starting together (CREATE … IF NOT EXISTS races in Postgres). */
const MIGRATION_LOCK = 7_014_582_913;
const SQLITE_BUSY_TIMEOUT_MS = 5000;
const SQLITE_RUNTIME_BUSY_TIMEOUT_MS = 250;

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

/** Creates missing tables, adds columns a table of an older version lacks, then creates indexes. */
function migrationOf(shape: TableShape, existingColumns: ReadonlySet<string>): string[] {
  return existingColumns.size === 0 ? createStatements(shape) : upgradeStatements(shape, existingColumns);
}

function openSqlite(path: string): RowStore {
  mkdirSync(dirname(path), { recursive: true });
  const client = new Database(path, { create: true, readwrite: true });
  try {
    // busy_timeout first: switching to WAL waits for other processes opening the file at the same
    // moment (workers and the history writer start together). WAL lets API readers run while the
    // writer inserts.
    client.run(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    client.run("PRAGMA journal_mode = WAL");
    const db = drizzleSqlite({ client });
    // Immediate: a deferred transaction that reads table_info and then writes cannot upgrade its
    // lock while another process migrates, and SQLite fails that at once instead of waiting.
    db.transaction(
      (tx) => {
        for (const shape of sqliteShapes()) {
          const columns = tx.all<{ name: string }>(sql.raw(`PRAGMA table_info("${shape.name}")`));
          for (const statement of migrationOf(shape, new Set(columns.map((c) => c.name)))) tx.run(sql.raw(statement));
        }
      },
      { behavior: "immediate" },
    );
    // From now on a locked file blocks this process's event loop while a statement waits
    // (bun:sqlite is synchronous): at most a quarter of a second, well under the supervisor's hang
    // limit (HANG_AFTER_MS, 1 s, less the 0.5 s between beats). A write that still finds it locked
    // fails as database_unavailable, which callers wait out without blocking.
    client.run(`PRAGMA busy_timeout = ${SQLITE_RUNTIME_BUSY_TIMEOUT_MS}`);
    return sqliteRows(db, () => client.close());
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
      for (const shape of pgShapes()) {
        const columns = (await tx.execute(
          sql`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${shape.name}`,
        )) as unknown as { column_name: string }[];
        for (const statement of migrationOf(shape, new Set(columns.map((c) => c.column_name))))
          await tx.execute(sql.raw(statement));
      }
    });
    return postgresRows(db, () => client.close());
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
 * in text; 23 integrity): sending it again fails again, and the message is at fault.
 */
const REFUSES_CONTENT = /^(22|23)/;
/**
 * Class 42 (syntax error or access rule violation: a missing column or table, a revoked grant) is
 * the schema's or our statement's fault, never the message's: every message would fail the same
 * way, so parking them would empty the topic into the dead letters. It is waited out (retryable)
 * under its own code, logged on every retry; the history group's lag grows meanwhile, which
 * PixelConsumerLagGrowing (infrastructure/monitoring/alerts.yml) alerts on.
 */
const SCHEMA_FAULT = /^42/;

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
    if (state && SCHEMA_FAULT.test(state))
      throw new PipelineError("history_schema_error", `${what} (SQLSTATE ${state}): ${errorMessage(error)}`, {
        retryable: true,
        cause: error,
      });
    throw new PipelineError("database_unavailable", `${what}: ${errorMessage(error)}`, {
      retryable: true,
      cause: error,
    });
  }
}

const checkLimit = (limit: number) => {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw new ProgrammerError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
};

/** Opens (creating or upgrading when needed) the database named by DATABASE_URL and its tables. */
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
    record: async (event) => {
      const row = rowOf(event);
      return row ? guarded(`recording generation ${event.id}`, () => store.insertIgnore(row)) : false;
    },
    recordLog: async (event) => {
      const row = logRowOf(event);
      return row ? guarded(`recording a log line of ${event.id}`, () => store.insertLogIgnore(row)) : false;
    },
    recordMany: async ({ ends, logs }) => {
      const rows = ends.flatMap((event) => rowOf(event) ?? []);
      const logRows = logs.flatMap((event) => logRowOf(event) ?? []);
      if (rows.length === 0 && logRows.length === 0) return new Set<string>();
      return guarded(`recording ${rows.length} generations and ${logRows.length} log lines`, () =>
        store.insertManyIgnore(rows, logRows),
      );
    },
    get: (id) =>
      guarded(`reading generation ${id}`, async () => {
        const row = await store.byId(id);
        return row ? recordOf(row) : null;
      }),
    listByUser: async (userId, options) => {
      checkLimit(options.limit);
      return guarded(`listing the generations of ${userId}`, async () =>
        (await store.byUser(userId, options)).map(recordOf),
      );
    },
    logs: (id) => guarded(`reading the log of ${id}`, async () => (await store.logsOf(id)).map(logEntryOf)),
    remove: (id) => guarded(`removing generation ${id}`, () => store.remove(id)),
    isImageUsedElsewhere: (key, exceptId) => guarded(`looking up image ${key}`, () => store.referencing(key, exceptId)),
    listOlderThan: async (beforeId, limit) => {
      checkLimit(limit);
      return guarded("listing old generations", async () => (await store.olderThan(beforeId, limit)).map(recordOf));
    },
    close() {
      closing ??= store.close();
      return closing;
    },
  };
}
