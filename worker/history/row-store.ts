import type { GenerationLogRow, GenerationRow, HistoryStatus } from "./history-schema.ts";

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
