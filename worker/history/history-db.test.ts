import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SQL } from "bun";
import { dropDatabase, startPostgres } from "../../infrastructure/postgres/postgres-local.ts";
import { PipelineError, ProgrammerError } from "../../shared/errors.ts";
import { uuidv7, uuidv7Floor, uuidv7Time } from "../../shared/uuid7.ts";
import { type HistoryDb, openHistoryDb, sqlitePath } from "./history-db.ts";
import {
  completeEvent,
  endedStatusEvent,
  failedEvent,
  freshUser,
  idAt,
  loggedStatusEvent,
} from "./history-fixtures.ts";

const run = crypto.randomUUID().slice(0, 8);
const tmp = mkdtempSync(join(tmpdir(), "history-db-"));
const pgDatabase = `history_test_${run}`;

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The table as the first version of the history created it, with one row in it. */
const V1_TABLE = [
  'CREATE TABLE "generations" ("id" text PRIMARY KEY NOT NULL, "user_id" text NOT NULL, "status" text NOT NULL, "params" text NOT NULL, "image" text, "error" text, "attempts" integer NOT NULL, "created_at" text NOT NULL, "completed_at" text NOT NULL)',
  'CREATE INDEX "generations_user_id_id" ON "generations" ("user_id", "id")',
];
const v1Row = (id: string, userId: string) =>
  `INSERT INTO "generations" VALUES ('${id}', '${userId}', 'failed', '{"prompt":"old","style":"noise","width":256,"height":256,"format":"png","seed":1}', NULL, '{"code":"timeout","message":"slow","retryable":false}', 2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z')`;

const targets = {
  sqlite: {
    url: async () => `file:${join(tmp, "nested", "history.sqlite")}`,
    drop: async () => {},
    async v1(statements: string[]) {
      const path = join(tmp, `v1-${crypto.randomUUID()}.sqlite`);
      const db = new Database(path, { create: true });
      for (const statement of statements) db.run(statement);
      db.close();
      return `file:${path}`;
    },
  },
  postgres: {
    url: () => startPostgres({ database: pgDatabase, log: () => {} }),
    drop: async () => {
      await dropDatabase(pgDatabase);
      await dropDatabase(`${pgDatabase}_v1`);
    },
    async v1(statements: string[]) {
      const url = await startPostgres({ database: `${pgDatabase}_v1`, log: () => {} });
      const client = new SQL(url);
      for (const statement of statements) await client.unsafe(statement);
      await client.close();
      return url;
    },
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
        thumbnail: event.thumbnail ?? null,
        error: null,
        timings: event.timings,
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
        thumbnail: null,
        error: event.error,
        timings: null,
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

    test.if(dialect === "postgres")(
      "a schema fault (SQLSTATE class 42) is retryable, not the message's fault: nothing is parked for it",
      async () => {
        const client = new SQL(url);
        const event = completeEvent(freshUser());
        try {
          // Schema drift as a bad migration or manual change would leave it: a column the insert names is gone.
          await client.unsafe('ALTER TABLE "generations" RENAME COLUMN "params" TO "params_moved"');
          const error = await rejectionOf(db.record(event));
          expect(error.code).toBe("history_schema_error");
          expect(error.retryable).toBe(true);
        } finally {
          await client.unsafe('ALTER TABLE "generations" RENAME COLUMN "params_moved" TO "params"');
          await client.close();
        }
        // Once the schema is fixed, the same event is recorded: it was never at fault.
        expect(await db.record(event)).toBe(true);
      },
    );

    test("records canceled and expired generations from their terminal status events, nothing from others", async () => {
      const user = freshUser();
      for (const status of ["canceled", "expired"] as const) {
        const event = endedStatusEvent(user, status);
        expect(await db.record(event)).toBe(true);
        expect(await db.get(event.id)).toMatchObject({
          status,
          params: event.request?.params,
          image: null,
          error: null,
          createdAt: event.request?.createdAt,
          completedAt: event.at,
        });
      }
      const progress = loggedStatusEvent(uuidv7(), user, 2, { level: "info", message: "rendering" });
      expect(await db.record(progress)).toBe(false);
      expect(await db.get(progress.id)).toBeNull();
    });

    test("recordMany writes rows and log lines together, more than one statement's worth, each once", async () => {
      const user = freshUser();
      // Keys of their own: other tests count which generations share an image.
      const ends = Array.from({ length: 520 }, (_, i) => {
        const event = completeEvent(user, i);
        return { ...event, image: { ...event.image, key: `batch/${event.id}.webp` }, thumbnail: undefined };
      });
      const logs = ends.map((e) => loggedStatusEvent(e.id, user, 1, { level: "info", message: "started" }));
      const again = ends.slice(0, 3);
      expect(await db.record(again[0] as (typeof ends)[number])).toBe(true);
      const inserted = await db.recordMany({ ends: [...ends, ...again], logs: [...logs, ...logs.slice(0, 2)] });
      // The one recorded before is not new; the repeats within the batch count once.
      expect([...inserted].sort()).toEqual(
        ends
          .slice(1)
          .map((e) => e.id)
          .sort(),
      );
      expect((await db.listByUser(user, { limit: 1000 })).length).toBe(ends.length);
      expect((await db.logs(ends[519]?.id ?? "")).map((l) => l.message)).toEqual(["started"]);
      expect(await db.recordMany({ ends, logs })).toEqual(new Set());
      expect(await db.recordMany({ ends: [], logs: [] })).toEqual(new Set());
    });

    test.if(dialect === "postgres")("recordMany is all or nothing: one row refused writes none", async () => {
      const user = freshUser();
      const good = completeEvent(user);
      const line = loggedStatusEvent(good.id, user, 1, { level: "info", message: "started" });
      const refused = { ...completeEvent(user), userId: `${user}\u0000` };
      const error = await rejectionOf(db.recordMany({ ends: [good, refused], logs: [line] }));
      expect(error.code).toBe("history_rejected");
      expect(await db.get(good.id)).toBeNull();
      expect(await db.logs(good.id)).toEqual([]);
    });

    test("keeps each logged status event once, in seq order; events without a line add nothing", async () => {
      const id = uuidv7();
      const user = freshUser();
      const lines = [
        loggedStatusEvent(id, user, 3, { level: "warn", message: "attempt 1 failed: provider_unavailable; retrying" }),
        loggedStatusEvent(id, user, 1, { level: "info", message: "attempt 1 started" }),
        loggedStatusEvent(id, user, 5, { level: "info", message: "attempt 2 started" }),
      ];
      for (const line of lines) expect(await db.recordLog(line)).toBe(true);
      expect(await db.recordLog(lines[0] as (typeof lines)[number])).toBe(false);
      const { log: _unused, ...quiet } = loggedStatusEvent(id, user, 6, { level: "info", message: "x" });
      expect(await db.recordLog(quiet)).toBe(false);
      expect((await db.logs(id)).map((l) => [l.level, l.message, l.attempt, l.worker])).toEqual([
        ["info", "attempt 1 started", 1, "test-worker"],
        ["warn", "attempt 1 failed: provider_unavailable; retrying", 1, "test-worker"],
        ["info", "attempt 2 started", 1, "test-worker"],
      ]);
      expect(await db.logs(uuidv7())).toEqual([]);
    });

    test("filters a user's list by status and by creation time (id bounds)", async () => {
      const user = freshUser();
      const day = 24 * 60 * 60 * 1000;
      const now = Date.now();
      const old = completeEvent(user, 1, idAt(now - 10 * day));
      const middle = failedEvent(user, 2, idAt(now - 5 * day));
      const recent = endedStatusEvent(user, "canceled", 3, idAt(now - day));
      for (const event of [old, middle, recent]) await db.record(event);
      const ids = async (options: Parameters<HistoryDb["listByUser"]>[1]) =>
        (await db.listByUser(user, options)).map((r) => r.id);
      expect(await ids({ limit: 10, statuses: ["failed", "canceled"] })).toEqual([recent.id, middle.id]);
      expect(await ids({ limit: 10, from: uuidv7Floor(now - 6 * day) })).toEqual([recent.id, middle.id]);
      expect(await ids({ limit: 10, before: uuidv7Floor(now - 2 * day) })).toEqual([middle.id, old.id]);
      expect(
        await ids({
          limit: 10,
          from: uuidv7Floor(now - 11 * day),
          before: uuidv7Floor(now - 2 * day),
          statuses: ["completed"],
        }),
      ).toEqual([old.id]);
    });

    test("remove deletes the row and its log; images shared by another generation are found", async () => {
      const user = freshUser();
      const first = completeEvent(user, 40);
      const twin = completeEvent(freshUser(), 40);
      await db.record(first);
      await db.record(twin);
      await db.recordLog(loggedStatusEvent(first.id, user, 1, { level: "info", message: "attempt 1 started" }));
      expect(await db.isImageUsedElsewhere(first.image.key, first.id)).toBe(true);
      expect(await db.isImageUsedElsewhere(first.thumbnail?.key ?? "", first.id)).toBe(true);
      await db.remove(twin.id);
      expect(await db.isImageUsedElsewhere(first.image.key, first.id)).toBe(false);
      await db.remove(first.id);
      await db.remove(first.id);
      expect(await db.get(first.id)).toBeNull();
      expect(await db.logs(first.id)).toEqual([]);
    });

    test("lists generations older than an id, oldest first", async () => {
      const user = freshUser();
      const day = 24 * 60 * 60 * 1000;
      const ancient = [3000, 2000].map((days, i) => completeEvent(user, 50 + i, idAt(Date.now() - days * day)));
      for (const event of ancient) await db.record(event);
      const cutoff = uuidv7Floor(Date.now() - 1000 * day);
      const older = await db.listOlderThan(cutoff, 1000);
      expect(older.map((r) => r.id).filter((id) => ancient.some((e) => e.id === id))).toEqual(ancient.map((e) => e.id));
      expect(older.every((r) => r.id < cutoff)).toBe(true);
    });

    test("a table of the first version is upgraded in place: its rows read back, new ones take the new columns", async () => {
      const user = freshUser();
      const oldId = uuidv7();
      const url = await target.v1([...V1_TABLE, v1Row(oldId, user)]);
      const upgraded = await openHistoryDb(url);
      try {
        expect(await upgraded.get(oldId)).toMatchObject({
          status: "failed",
          thumbnail: null,
          timings: null,
          attempts: 2,
        });
        const event = completeEvent(user, 60);
        expect(await upgraded.record(event)).toBe(true);
        expect((await upgraded.get(event.id))?.thumbnail).toEqual(event.thumbnail ?? null);
        expect((await upgraded.listByUser(user, { limit: 10 })).map((r) => r.id)).toEqual([event.id, oldId]);
      } finally {
        await upgraded.close();
      }
      const again = await openHistoryDb(url);
      expect(await again.get(oldId)).not.toBeNull();
      await again.close();
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

  test("processes starting together on a new SQLite file all open it (the local stack's workers and writer)", async () => {
    const path = join(tmp, "together.sqlite");
    const opener = `import { openHistoryDb } from ${JSON.stringify(resolve(import.meta.dir, "history-db.ts"))};
      const db = await openHistoryDb(${JSON.stringify(`file:${path}`)}); await db.close();`;
    const children = Array.from({ length: 6 }, () =>
      Bun.spawn([process.execPath, "-e", opener], { stdout: "ignore", stderr: "pipe" }),
    );
    const results = await Promise.all(
      children.map(async (child) => ({ code: await child.exited, stderr: await new Response(child.stderr).text() })),
    );
    expect(results.filter((r) => r.code !== 0)).toEqual([]);
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
