import { describe, expect, test } from "bun:test";
import { createStatements, pgShape, sqliteShape } from "./history-schema.ts";

describe("generations table", () => {
  test("the SQLite and Postgres definitions describe the same columns and indexes", () => {
    expect(pgShape()).toEqual(sqliteShape());
  });

  test("has the columns, key and index the history needs", () => {
    const shape = sqliteShape();
    expect(shape.name).toBe("generations");
    expect(shape.columns.map((c) => [c.name, c.sqlType, c.notNull])).toEqual([
      ["id", "text", true],
      ["user_id", "text", true],
      ["status", "text", true],
      ["params", "text", true],
      ["image", "text", false],
      ["error", "text", false],
      ["attempts", "integer", true],
      ["created_at", "text", true],
      ["completed_at", "text", true],
    ]);
    expect(shape.columns.filter((c) => c.primaryKey).map((c) => c.name)).toEqual(["id"]);
    expect(shape.indexes).toEqual([{ name: "generations_user_id_id", unique: false, columns: ["user_id", "id"] }]);
  });

  test("its DDL only creates what is missing", () => {
    const statements = createStatements(sqliteShape());
    expect(statements).toHaveLength(2);
    expect(statements[0]).toStartWith('CREATE TABLE IF NOT EXISTS "generations" ("id" text PRIMARY KEY NOT NULL,');
    expect(statements[1]).toBe(
      'CREATE INDEX IF NOT EXISTS "generations_user_id_id" ON "generations" ("user_id", "id")',
    );
  });
});
