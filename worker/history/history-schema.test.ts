import { describe, expect, test } from "bun:test";
import { createStatements, pgShapes, sqliteShapes, upgradeStatements } from "./history-schema.ts";

describe("history tables", () => {
  test("the SQLite and Postgres definitions describe the same columns and indexes", () => {
    expect(pgShapes()).toEqual(sqliteShapes());
  });

  test("generations: the columns, key and indexes the history needs", () => {
    const [shape] = sqliteShapes();
    if (!shape) throw new Error("no generations table");
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
      ["thumbnail", "text", false],
      ["timings", "text", false],
      ["image_key", "text", false],
      ["thumbnail_key", "text", false],
    ]);
    expect(shape.columns.filter((c) => c.primaryKey).map((c) => c.name)).toEqual(["id"]);
    expect(shape.indexes).toEqual([
      { name: "generations_user_id_id", unique: false, columns: ["user_id", "id"] },
      { name: "generations_image_key", unique: false, columns: ["image_key"] },
      { name: "generations_thumbnail_key", unique: false, columns: ["thumbnail_key"] },
    ]);
  });

  test("generation_logs: one row per logged status event, read in seq order", () => {
    const [, shape] = sqliteShapes();
    expect(shape?.name).toBe("generation_logs");
    expect(shape?.columns.map((c) => c.name)).toEqual([
      "id",
      "generation_id",
      "seq",
      "at",
      "level",
      "message",
      "attempt",
      "worker",
    ]);
    expect(shape?.indexes).toEqual([
      { name: "generation_logs_generation_id_seq", unique: false, columns: ["generation_id", "seq"] },
    ]);
  });

  test("its DDL only creates what is missing", () => {
    const [shape] = sqliteShapes();
    if (!shape) throw new Error("no generations table");
    const statements = createStatements(shape);
    expect(statements).toHaveLength(4);
    expect(statements[0]).toStartWith('CREATE TABLE IF NOT EXISTS "generations" ("id" text PRIMARY KEY NOT NULL,');
    expect(statements[1]).toBe(
      'CREATE INDEX IF NOT EXISTS "generations_user_id_id" ON "generations" ("user_id", "id")',
    );
  });

  test("a table of an older version gets the columns it lacks, then the indexes", () => {
    const [shape] = sqliteShapes();
    if (!shape) throw new Error("no generations table");
    const old = new Set(shape.columns.slice(0, 9).map((c) => c.name));
    const statements = upgradeStatements(shape, old);
    expect(statements.slice(0, 4)).toEqual([
      'ALTER TABLE "generations" ADD COLUMN "thumbnail" text',
      'ALTER TABLE "generations" ADD COLUMN "timings" text',
      'ALTER TABLE "generations" ADD COLUMN "image_key" text',
      'ALTER TABLE "generations" ADD COLUMN "thumbnail_key" text',
    ]);
    expect(statements.slice(4).every((s) => s.startsWith("CREATE INDEX IF NOT EXISTS"))).toBe(true);
    expect(upgradeStatements(shape, new Set(shape.columns.map((c) => c.name)))).toHaveLength(3);
    expect(() => upgradeStatements(shape, new Set(["id"]))).toThrow("NOT NULL");
  });
});
