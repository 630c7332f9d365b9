/**
 * The durable `generations` table, in both of drizzle's dialects. Drizzle's builders are per
 * dialect (sqlite-core, pg-core) and their inferred row types come from each builder chain, so a
 * single generic description could only feed them through casts that erase that inference.
 * The two definitions therefore sit side by side, written identically; the test beside this
 * file fails when their columns or indexes differ, history-db.ts only compiles while their
 * row types agree, and the DDL is derived from them here, so there is no third copy.
 */
import {
  getTableConfig as pgConfig,
  index as pgIndex,
  integer as pgInteger,
  pgTable,
  text as pgText,
} from "drizzle-orm/pg-core";
import {
  getTableConfig as sqliteConfig,
  index as sqliteIndex,
  integer as sqliteInteger,
  sqliteTable,
  text as sqliteText,
} from "drizzle-orm/sqlite-core";
import { ProgrammerError } from "../../shared/errors.ts";
import { ENDINGS, type Ending, GENERATION_LOG_LEVELS } from "../../shared/job-states.ts";

/** Every way a generation ends; the history keeps each ended generation until it is deleted. */
export const HISTORY_STATUSES = ENDINGS;
export type HistoryStatus = Ending;

/*
 * Timestamps are ISO-8601 UTC text and JSON is text in both dialects, so a row reads back the
 * same whichever database holds it (a Postgres integer is 32-bit: no room for epoch ms).
 */
export const sqliteGenerations = sqliteTable(
  "generations",
  {
    id: sqliteText("id").primaryKey(),
    userId: sqliteText("user_id").notNull(),
    status: sqliteText("status", { enum: HISTORY_STATUSES }).notNull(),
    params: sqliteText("params").notNull(),
    image: sqliteText("image"),
    error: sqliteText("error"),
    attempts: sqliteInteger("attempts").notNull(),
    createdAt: sqliteText("created_at").notNull(),
    completedAt: sqliteText("completed_at").notNull(),
    thumbnail: sqliteText("thumbnail"),
    timings: sqliteText("timings"),
    imageKey: sqliteText("image_key"),
    thumbnailKey: sqliteText("thumbnail_key"),
  },
  (t) => [
    sqliteIndex("generations_user_id_id").on(t.userId, t.id),
    sqliteIndex("generations_image_key").on(t.imageKey),
    sqliteIndex("generations_thumbnail_key").on(t.thumbnailKey),
  ],
);

export const pgGenerations = pgTable(
  "generations",
  {
    id: pgText("id").primaryKey(),
    userId: pgText("user_id").notNull(),
    status: pgText("status", { enum: HISTORY_STATUSES }).notNull(),
    params: pgText("params").notNull(),
    image: pgText("image"),
    error: pgText("error"),
    attempts: pgInteger("attempts").notNull(),
    createdAt: pgText("created_at").notNull(),
    completedAt: pgText("completed_at").notNull(),
    thumbnail: pgText("thumbnail"),
    timings: pgText("timings"),
    imageKey: pgText("image_key"),
    thumbnailKey: pgText("thumbnail_key"),
  },
  (t) => [
    pgIndex("generations_user_id_id").on(t.userId, t.id),
    pgIndex("generations_image_key").on(t.imageKey),
    pgIndex("generations_thumbnail_key").on(t.thumbnailKey),
  ],
);

/** One line of a generation's log; `id` is `<generation id>:<producer seq>`, so a redelivery inserts nothing. */
export const sqliteGenerationLogs = sqliteTable(
  "generation_logs",
  {
    id: sqliteText("id").primaryKey(),
    generationId: sqliteText("generation_id").notNull(),
    seq: sqliteInteger("seq").notNull(),
    at: sqliteText("at").notNull(),
    level: sqliteText("level", { enum: GENERATION_LOG_LEVELS }).notNull(),
    message: sqliteText("message").notNull(),
    attempt: sqliteInteger("attempt").notNull(),
    worker: sqliteText("worker").notNull(),
  },
  (t) => [sqliteIndex("generation_logs_generation_id_seq").on(t.generationId, t.seq)],
);

export const pgGenerationLogs = pgTable(
  "generation_logs",
  {
    id: pgText("id").primaryKey(),
    generationId: pgText("generation_id").notNull(),
    seq: pgInteger("seq").notNull(),
    at: pgText("at").notNull(),
    level: pgText("level", { enum: GENERATION_LOG_LEVELS }).notNull(),
    message: pgText("message").notNull(),
    attempt: pgInteger("attempt").notNull(),
    worker: pgText("worker").notNull(),
  },
  (t) => [pgIndex("generation_logs_generation_id_seq").on(t.generationId, t.seq)],
);

export type GenerationRow = typeof sqliteGenerations.$inferSelect;
export type GenerationLogRow = typeof sqliteGenerationLogs.$inferSelect;

export interface TableShape {
  name: string;
  columns: { name: string; sqlType: string; primaryKey: boolean; notNull: boolean }[];
  indexes: { name: string; unique: boolean; columns: string[] }[];
}

function indexedColumnName(column: unknown): string {
  if (typeof column === "object" && column !== null && "name" in column && typeof column.name === "string")
    return column.name;
  throw new ProgrammerError("an index on an expression cannot be derived here: extend createStatements");
}

function shapeOf(config: ReturnType<typeof sqliteConfig> | ReturnType<typeof pgConfig>): TableShape {
  return {
    name: config.name,
    columns: config.columns.map((c) => ({
      name: c.name,
      sqlType: c.getSQLType(),
      primaryKey: c.primary,
      notNull: c.notNull,
    })),
    indexes: config.indexes.map((i) => ({
      name: i.config.name ?? "",
      unique: i.config.unique ?? false,
      columns: i.config.columns.map(indexedColumnName),
    })),
  };
}

/** Both tables, in creation order, per dialect. */
export const sqliteShapes = (): TableShape[] =>
  [sqliteGenerations, sqliteGenerationLogs].map((t) => shapeOf(sqliteConfig(t)));
export const pgShapes = (): TableShape[] => [pgGenerations, pgGenerationLogs].map((t) => shapeOf(pgConfig(t)));

const quote = (name: string) => `"${name}"`;

const columnDefinition = (c: TableShape["columns"][number]) =>
  `${quote(c.name)} ${c.sqlType}${c.primaryKey ? " PRIMARY KEY" : ""}${c.notNull ? " NOT NULL" : ""}`;

/** Idempotent DDL (drizzle-kit is not a dependency); the syntax used is common to SQLite and Postgres. */
export function createStatements(shape: TableShape): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${quote(shape.name)} (${shape.columns.map(columnDefinition).join(", ")})`,
    ...indexStatements(shape),
  ];
}

export function indexStatements(shape: TableShape): string[] {
  return shape.indexes.map(
    (i) =>
      `CREATE ${i.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS ${quote(i.name)} ON ${quote(shape.name)} (${i.columns.map(quote).join(", ")})`,
  );
}

/**
 * The migration of a table created by an older version: columns it lacks are added (new columns
 * are nullable, so existing rows stay valid), then indexes are created as usual.
 */
export function upgradeStatements(shape: TableShape, existingColumns: ReadonlySet<string>): string[] {
  const missing = shape.columns.filter((c) => !existingColumns.has(c.name));
  const required = missing.find((c) => c.notNull);
  if (required) throw new ProgrammerError(`column ${shape.name}.${required.name} is NOT NULL: it cannot be added`);
  return [
    ...missing.map((c) => `ALTER TABLE ${quote(shape.name)} ADD COLUMN ${columnDefinition(c)}`),
    ...indexStatements(shape),
  ];
}
