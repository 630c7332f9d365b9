import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dropDatabase, startPostgres } from "../../infrastructure/postgres/postgres-local.ts";
import type { GenerationLogEntry } from "../../shared/history.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { readImageInfo, THUMBNAIL_SIZE } from "../imaging/sharp-image.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";

type Page = { items: (GenerationSnapshot & { links: Record<string, string> })[]; nextCursor: string | null };

for (const dialect of ["sqlite", "postgres"] as const) {
  describe(`gallery that lasts (history on ${dialect})`, () => {
    const database = `history_pipeline_${crypto.randomUUID().slice(0, 8)}`;
    const provider = scriptedProvider([]);
    let p: Pipeline;
    beforeAll(async () => {
      const databaseUrl = dialect === "postgres" ? await startPostgres({ database, log: () => {} }) : undefined;
      p = await startPipeline({ provider, databaseUrl });
    }, 120_000);
    afterAll(async () => {
      await p.stop();
      if (dialect === "postgres") await dropDatabase(database);
    });

    const keys = () => redisKeys(p.prefix);
    const list = async (user: string, query = "") =>
      (await (await p.api(`/api/generations?${query}`, { user })).json()) as Page;
    /** Every page, following nextCursor, as a client scrolls. */
    const allPages = async (user: string, query: string) => {
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: Page = await list(user, `${query}${cursor ? `&cursor=${cursor}` : ""}`);
        pages.push(page.items.map((g) => g.id));
        cursor = page.nextCursor;
      } while (cursor !== null && pages.length < 20);
      return pages;
    };
    /** Submits one by one (ids rise), each to its end; `fail` makes that one fail for good. */
    async function make(user: string, count: number, fail: number[] = []) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        if (fail.includes(i)) provider.script.push({ kind: "permanent" });
        const response = await p.submit(user, { prompt: `gallery ${i}`, width: 320, height: 256 });
        const { id } = (await response.json()) as { id: string };
        await p.waitFor(user, id);
        ids.push(id);
      }
      // The history writer records each ending from Kafka, independently of Redis.
      for (const id of ids) {
        const until = Date.now() + 20_000;
        while (!(await p.history.get(id))) {
          if (Date.now() > until) throw new Error(`${id} never reached the history`);
          await Bun.sleep(50);
        }
      }
      return ids;
    }
    /** What Redis's TTL does after a week, now. */
    async function expire(key: string) {
      await p.redis.send("PEXPIRE", [key, "1"]);
      while (Number(await p.redis.send("EXISTS", [key])) === 1) await Bun.sleep(5);
    }

    test("snapshots gone from Redis are still listed and gettable from the history, in order across the boundary", async () => {
      const user = `ann-${dialect}`;
      const ids = await make(user, 5);
      // Interleaved: Redis keeps 4 and 2, the history alone answers for 3, 1 and 0.
      const [i0, i1, , i3] = ids as [string, string, string, string, string];
      for (const id of [i0, i1, i3]) await expire(keys().snapshot(id));
      const newestFirst = [...ids].reverse();
      expect(await allPages(user, "limit=2")).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), [i0]]);
      expect(await allPages(user, "limit=3")).toEqual([newestFirst.slice(0, 3), newestFirst.slice(3)]);

      const items = (await list(user, "limit=5")).items;
      const fromHistory = items.filter((g) => g.seq === 0).map((g) => g.id);
      expect(fromHistory).toEqual([i3, i1, i0]);
      for (const g of items) {
        expect(g).toMatchObject({ status: "completed", progress: 100, stage: "done", params: { width: 320 } });
        expect(g.image).toMatchObject({ width: 320, height: 256, format: "webp" });
        expect(g.thumbnail).toMatchObject({ format: "webp", width: THUMBNAIL_SIZE });
        expect(g.timings?.totalMs).toBeGreaterThanOrEqual(g.timings?.generationMs ?? 0);
        expect(g.links.events).toBeUndefined();
      }

      const old = (await (await p.api(`/api/generations/${i0}`, { user })).json()) as GenerationSnapshot;
      expect(old).toMatchObject({ id: i0, status: "completed", seq: 0, attempts: 1 });
      expect(old.startedAt).toBeDefined();
      const thumbnail = await fetch(old.thumbnail?.url ?? "");
      expect(await readImageInfo(new Uint8Array(await thumbnail.arrayBuffer()))).toMatchObject({ format: "webp" });
      expect((await fetch(old.image?.url ?? "")).status).toBe(200);

      const logs = (await (await p.api(`/api/generations/${i0}/logs`, { user })).json()) as {
        entries: GenerationLogEntry[];
      };
      expect(logs.entries[0]).toMatchObject({ level: "info", message: "attempt 1 of 3 started", attempt: 1 });
      expect(logs.entries.at(-1)?.message).toStartWith("completed: 320×256 webp");
      expect(logs.entries.every((l) => l.worker === "test-worker-0")).toBe(true);

      expect((await p.api(`/api/generations/${i0}`, { user: "someone-else" })).status).toBe(404);
      expect((await p.api(`/api/generations/${i0}/logs`, { user: "someone-else" })).status).toBe(404);
      expect((await list("someone-else")).items).toEqual([]);
    });

    test("a user back after the whole Redis index expired gets the gallery from the history alone", async () => {
      const user = `ben-${dialect}`;
      const ids = await make(user, 3);
      await expire(keys().userGenerations(user));
      for (const id of ids) await expire(keys().snapshot(id));
      expect(await allPages(user, "limit=2")).toEqual([ids.slice(1).reverse(), ids.slice(0, 1)]);
    });

    test("status and date filters apply across both stores with the same cursor", async () => {
      const user = `cat-${dialect}`;
      const ids = await make(user, 6, [1, 4]);
      const [i0, i1, i2, i3, i4, i5] = ids as [string, string, string, string, string, string];
      for (const id of [i0, i1, i2]) await expire(keys().snapshot(id));
      expect(await allPages(user, "limit=1&status=failed")).toEqual([[i4], [i1]]);
      expect(await allPages(user, "limit=2&status=completed")).toEqual([
        [i5, i3],
        [i2, i0],
      ]);
      expect(await allPages(user, "limit=2&status=queued,processing")).toEqual([[]]);

      const created = async (id: string | undefined) =>
        ((await (await p.api(`/api/generations/${id}`, { user })).json()) as GenerationSnapshot).createdAt;
      const since = await created(i2);
      const until = await created(i4);
      expect(await allPages(user, `limit=10&since=${since}`)).toEqual([[i5, i4, i3, i2]]);
      expect(await allPages(user, `limit=1&since=${since}&until=${until}`)).toEqual([[i3], [i2]]);
      expect(await allPages(user, `limit=10&until=${since}&status=failed`)).toEqual([[i1]]);

      const bad = await p.api("/api/generations?status=done&since=yesterday", { user });
      expect(bad.status).toBe(400);
      const details = ((await bad.json()) as { error: { details: { path: string }[] } }).error.details;
      expect(details.map((d) => d.path)).toEqual(["status", "since"]);
    });
  });
}
