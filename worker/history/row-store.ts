import type { GenerationLogRow, GenerationRow, HistoryStatus } from "./history-schema.ts";

/**
 * Rows per INSERT statement of a batch: 14 columns each stays far below both dialects' limits on
 * bound parameters (SQLite 32,766, PostgreSQL 65,535), however many events a fetch brings.
 */
const ROWS_PER_STATEMENT = 500;

/** `items` in runs of ROWS_PER_STATEMENT. */
export function statementChunks<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT) chunks.push(items.slice(i, i + ROWS_PER_STATEMENT));
  return chunks;
}

/** Which of a user's rows to list, newest first. */
export interface RowQuery {
  limit: number;
  /** Only ids below this one (exclusive): a cursor, or the first id of a later time. */
  before?: string;
  /** Only ids from this one on (inclusive): the first id of an earlier time. */
  from?: string;
  statuses?: readonly HistoryStatus[];
}

/** What differs between the dialects: the queries and closing the client (sqlite-rows.ts, postgres-rows.ts). */
export interface RowStore {
  insertIgnore(row: GenerationRow): Promise<boolean>;
  insertLogIgnore(row: GenerationLogRow): Promise<boolean>;
  /**
   * Inserts log lines and generation rows in one transaction, each ignored when its id is
   * recorded already; resolves the ids of the generation rows it inserted. All or nothing.
   */
  insertManyIgnore(rows: readonly GenerationRow[], logRows: readonly GenerationLogRow[]): Promise<Set<string>>;
  byId(id: string): Promise<GenerationRow | undefined>;
  byUser(userId: string, query: RowQuery): Promise<GenerationRow[]>;
  logsOf(generationId: string): Promise<GenerationLogRow[]>;
  /** Deletes the generation's row and log lines. */
  remove(id: string): Promise<void>;
  /** Whether a generation other than `exceptId` uses the image or thumbnail stored under `key`. */
  referencing(key: string, exceptId: string): Promise<boolean>;
  /** Rows with ids below `beforeId` (created earlier), oldest first. */
  olderThan(beforeId: string, limit: number): Promise<GenerationRow[]>;
  close(): Promise<void>;
}
