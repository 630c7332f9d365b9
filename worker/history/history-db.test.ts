import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dropDatabase, startPostgres } from "../../infrastructure/postgres/postgres-local.ts";
import { PipelineError, ProgrammerError } from "../../shared/errors.ts";
import { uuidv7Time } from "../../shared/uuid7.ts";
import { type HistoryDb, openHistoryDb, sqlitePath } from "./history-db.ts";
import { completeEvent, failedEvent, freshUser } from "./history-fixtures.ts";

const run = crypto.randomUUID().slice(0, 8);
const tmp = mkdtempSync(join(tmpdir(), "history-db-"));
const pgDatabase = `history_test_${run}`;

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const targets = {
  sqlite: { url: async () => `file:${join(tmp, "nested", "history.sqlite")}`, drop: async () => {} },
  postgres: {
    url: () => startPostgres({ database: pgDatabase, log: () => {} }),
    drop: () => dropDatabase(pgDatabase),
  },
};

const rejectionOf = (promise: Promise<unknown>): Promise<PipelineError> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: PipelineError) => error,
  );

for (const [dialect, target] of Object.entries(targets)) {
  describe(`history on ${dialect}`, () => {
    let url: string;
    let db: HistoryDb;

    beforeAll(async () => {
      url = await target.url();
      db = await openHistoryDb(url);
    }, 120_000);

    afterAll(async () => {
      await db.close();
      await target.drop();
    });

    test("records a completed generation and reads it back", async () => {
      const event = completeEvent(freshUser());
      expect(db.dialect).toBe(dialect as HistoryDb["dialect"]);
      expect(await db.record(event)).toBe(true);
      expect(await db.get(event.id)).toEqual({
        id: event.id,
        userId: event.userId,
        status: "completed",
        params: event.params,
        image: event.image,
        error: null,
        attempts: 1,
        createdAt: new Date(uuidv7Time(event.id)).toISOString(),
        completedAt: event.completedAt,
      });
    });

    test("records a failed generation with its request's params and creation time", async () => {
      const event = failedEvent(freshUser());
      expect(await db.record(event)).toBe(true);
      expect(await db.get(event.id)).toEqual({
        id: event.id,
        userId: event.userId,
        status: "failed",
        params: event.request.params,
        image: null,
        error: event.error,
        attempts: 3,
        createdAt: event.request.createdAt,
        completedAt: event.failedAt,
      });
    });

    test("a redelivered event leaves exactly one row, unchanged", async () => {
      const user = freshUser();
      const first = completeEvent(user);
      expect(await db.record(first)).toBe(true);
      const before = await db.get(first.id);
      expect(await db.record(first)).toBe(false);
      // Even a different outcome for the same id must not overwrite the recorded one.
      const other = { ...failedEvent(user), id: first.id };
      expect(await db.record(other)).toBe(false);
      expect(await db.get(first.id)).toEqual(before);
      expect((await db.listByUser(user, { limit: 10 })).map((r) => r.id)).toEqual([first.id]);
    });

    test("a row the database refuses for its content fails as not retryable", async () => {
      // The event schema refuses NUL; record() is reached here as a bug would reach it.
      const valid = completeEvent(freshUser());
      const event = { ...valid, userId: `${valid.userId}\u0000` };
      if (dialect === "postgres") {
        const error = await rejectionOf(db.record(event));
        expect(error.code).toBe("history_rejected");
        expect(error.retryable).toBe(false);
      } else {
        expect(await db.record(event)).toBe(true);
      }
    });

    test("get answers null for an unknown id", async () => {
      expect(await db.get(completeEvent(freshUser()).id)).toBeNull();
    });

    test("lists a user's generations newest first and pages with before", async () => {
      const user = freshUser();
      const events = [1, 2, 3, 4, 5].map((seed) => (seed % 2 ? completeEvent(user, seed) : failedEvent(user, seed)));
      const newestFirst = events.map((e) => e.id).reverse();
      // Inserted out of order: the listing follows the ids' creation time, not insertion.
      for (const event of [2, 0, 4, 1, 3].flatMap((i) => events.slice(i, i + 1))) {
        expect(await db.record(event)).toBe(true);
      }
      await db.record(completeEvent(freshUser()));

      // Pages as a client follows them: each page's last id is the next page's cursor.
      const pages: string[][] = [];
      let before: string | undefined;
      do {
        const page = (await db.listByUser(user, before === undefined ? { limit: 2 } : { limit: 2, before })).map(
          (r) => r.id,
        );
        pages.push(page);
        before = page.at(-1);
      } while (before !== undefined && pages.length < 10);
      expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4), []]);
      const all = await db.listByUser(user, { limit: 10 });
      expect(all.map((r) => r.status)).toEqual(["completed", "failed", "completed", "failed", "completed"]);
      expect(all.every((r) => r.userId === user)).toBe(true);
      expect(await db.listByUser(freshUser(), { limit: 10 })).toEqual([]);
    });

    test("refuses a limit outside 1..1000", async () => {
      for (const limit of [0, 1001, 2.5]) {
        expect(await rejectionOf(db.listByUser(freshUser(), { limit }))).toBeInstanceOf(ProgrammerError);
      }
    });

    test("opening the database again keeps its rows; close is safe twice", async () => {
      const event = failedEvent(freshUser());
      await db.record(event);
      const again = await openHistoryDb(url);
      expect((await again.get(event.id))?.error).toEqual(event.error);
      await again.close();
      await again.close();
      expect(await db.get(event.id)).not.toBeNull();
    });
  });
}

describe("opening", () => {
  test("a file: URL names a path relative to the working folder or an absolute one", () => {
    expect(sqlitePath("file:.data/pixel-studio.sqlite")).toBe(resolve(".data/pixel-studio.sqlite"));
    expect(sqlitePath("file:/var/lib/history.sqlite")).toBe("/var/lib/history.sqlite");
    expect(sqlitePath("file:///var/lib/history.sqlite")).toBe("/var/lib/history.sqlite");
    expect(() => sqlitePath("file:")).toThrow(ProgrammerError);
    expect(() => sqlitePath("postgres://127.0.0.1/x")).toThrow(ProgrammerError);
  });

  test("SQLite gets its parent folders created and writes through a write-ahead log", async () => {
    const path = join(tmp, "a", "b", "wal.sqlite");
    const db = await openHistoryDb(`file:${path}`);
    await db.record(completeEvent(freshUser()));
    expect(existsSync(`${path}-wal`)).toBe(true);
    await db.close();
  });

  test("an unsupported URL is refused", async () => {
    expect(await rejectionOf(openHistoryDb("mysql://127.0.0.1/x"))).toBeInstanceOf(ProgrammerError);
  });

  test("an unreachable Postgres is a retryable database_unavailable error", async () => {
    const error = await rejectionOf(openHistoryDb("postgres://postgres@127.0.0.1:1/none"));
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.code).toBe("database_unavailable");
    expect(error.retryable).toBe(true);
  });
});
