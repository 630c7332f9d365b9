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

export const HISTORY_STATUSES = ["completed", "failed"] as const;
export type HistoryStatus = (typeof HISTORY_STATUSES)[number];

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
  },
  (t) => [sqliteIndex("generations_user_id_id").on(t.userId, t.id)],
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
  },
  (t) => [pgIndex("generations_user_id_id").on(t.userId, t.id)],
);

export type GenerationRow = typeof sqliteGenerations.$inferSelect;

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

export const sqliteShape = (): TableShape => shapeOf(sqliteConfig(sqliteGenerations));
export const pgShape = (): TableShape => shapeOf(pgConfig(pgGenerations));

const quote = (name: string) => `"${name}"`;

/** Idempotent DDL (drizzle-kit is not a dependency); the syntax used is common to SQLite and Postgres. */
export function createStatements(shape: TableShape): string[] {
  const columns = shape.columns.map(
    (c) => `${quote(c.name)} ${c.sqlType}${c.primaryKey ? " PRIMARY KEY" : ""}${c.notNull ? " NOT NULL" : ""}`,
  );
  return [
    `CREATE TABLE IF NOT EXISTS ${quote(shape.name)} (${columns.join(", ")})`,
    ...shape.indexes.map(
      (i) =>
        `CREATE ${i.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS ${quote(i.name)} ON ${quote(shape.name)} (${i.columns.map(quote).join(", ")})`,
    ),
  ];
}
