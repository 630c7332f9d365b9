import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompleteEvent, StatusEvent } from "../../shared/events/events.ts";
import { createLogger } from "../../shared/logger.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { requestEvent } from "../../worker/gateway/gateway-fixtures.ts";
import { logLine } from "../../worker/generation/generation-reporter.ts";
import { type HistoryDb, openHistoryDb } from "../../worker/history/history-db.ts";
import type { TerminalEvent } from "../../worker/history/history-record.ts";
import { createTombstones } from "../../worker/lifecycle/tombstones.ts";
import { createRedis, type Redis } from "../../worker/redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../../worker/redis/redis-test-env.ts";
import { createSnapshotWriter } from "../../worker/relay/snapshot-writer.ts";
import { until } from "../../worker/testing/until.ts";
import { historyOnThread } from "./history-thread.ts";
import { HISTORY_BATCH_MAX, twinEndings } from "./twin-endings.ts";

const tmp = mkdtempSync(join(tmpdir(), "twin-endings-"));
const prefix = freshPrefix();
let history: HistoryDb;
let redis: Redis;
const warnings: string[] = [];
const logger = createLogger({ sink: (_level, line) => warnings.push(line) });

beforeAll(async () => {
  history = await openHistoryDb(`file:${join(tmp, "history.sqlite")}`);
  redis = await createRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await history.close();
  await deleteKeys(redis, prefix);
  redis.close();
  rmSync(tmp, { recursive: true, force: true });
});

const params = { prompt: "p", style: "noise", width: 256, height: 256, format: "webp", seed: 1 } as const;
const image = {
  key: "a.webp",
  url: "http://images/a.webp",
  width: 256,
  height: 256,
  format: "webp" as const,
  bytes: 10,
  sha256: "0".repeat(64),
};
const timings = { queuedMs: 1, generationMs: 2, totalMs: 3 };

/** A submitted generation (its queued snapshot, as the shared edge writes it) and its ending. */
async function submitted() {
  const request = requestEvent({ userId: "u1", params });
  await createSnapshotWriter(redis, prefix).applyRequest(request, 0, "0");
  const at = new Date().toISOString();
  const line = (seq: number, status: "processing" | "completed", message: string, extra = {}) =>
    StatusEvent.create({
      id: request.id,
      userId: "u1",
      seq,
      status,
      stage: status === "completed" ? "done" : "started",
      progress: status === "completed" ? 100 : 5,
      at,
      workerId: "w",
      attempt: 1,
      log: logLine("info", message),
      ...extra,
    });
  const ending = line(2, "completed", "completed", { image, timings });
  const end = CompleteEvent.create({
    id: request.id,
    userId: "u1",
    params,
    image,
    timings,
    attempts: 1,
    completedAt: at,
  });
  return { id: request.id, end, ending, logs: [line(1, "processing", "started"), ending] };
}

const snapshotStatus = async (id: string) =>
  (JSON.parse(String(await redis.send("GET", [redisKeys(prefix).snapshot(id)]))) as { status?: string }).status;

test("endings go to the history in one write per batch, and each snapshot ends", async () => {
  let transactions = 0;
  const endings = twinEndings({
    history: {
      recordMany(batch) {
        transactions++;
        return history.recordMany(batch);
      },
    },
    snapshots: createSnapshotWriter(redis, prefix),
    tombstones: createTombstones(redis, prefix),
    logger,
  });
  const generations = [await submitted(), await submitted()];
  for (const g of generations) endings.ended(g.end, g.ending, g.logs);
  await endings.close();
  await endings.close();

  expect(transactions).toBe(1);
  for (const { id } of generations) {
    expect((await history.get(id))?.status).toBe("completed");
    expect((await history.logs(id))?.map((entry) => entry.message)).toEqual(["started", "completed"]);
    expect(await snapshotStatus(id)).toBe("completed");
  }
});

test("a history that cannot write is logged; the snapshot still ends and close does not hang", async () => {
  const endings = twinEndings({
    history: { recordMany: () => Promise.reject(new Error("disk full")) },
    snapshots: createSnapshotWriter(redis, prefix),
    tombstones: createTombstones(redis, prefix),
    logger,
  });
  const g = await submitted();
  endings.ended(g.end, g.ending, g.logs);
  await endings.close();

  expect(await history.get(g.id)).toBeNull();
  expect(await snapshotStatus(g.id)).toBe("completed");
  expect(warnings.some((line) => line.includes("twin history not written"))).toBe(true);
});

test("a batch is written on its timer without close, less any generation deleted meanwhile", async () => {
  const endings = twinEndings({
    history,
    snapshots: createSnapshotWriter(redis, prefix),
    tombstones: createTombstones(redis, prefix),
    logger,
    flushMs: 50,
  });
  const [kept, deleted] = [await submitted(), await submitted()];
  await redis.send("SET", [redisKeys(prefix).deleted(deleted.id), "1"]);
  endings.ended(kept.end, kept.ending, kept.logs);
  endings.ended(deleted.end, deleted.ending, deleted.logs);
  await until(async () => (await history.get(kept.id)) !== null);

  expect(await history.logs(kept.id)).toHaveLength(2);
  expect(await history.get(deleted.id)).toBeNull();
  expect(await history.logs(deleted.id)).toEqual([]);
  await endings.close();
});

test("a full batch is written at once, not when its timer fires", async () => {
  // A timer far beyond the wait below: only the batch size can send these.
  const endings = twinEndings({
    history,
    snapshots: createSnapshotWriter(redis, prefix),
    tombstones: createTombstones(redis, prefix),
    logger,
    flushMs: 10 * 60_000,
  });
  const generations = await Promise.all(Array.from({ length: HISTORY_BATCH_MAX }, () => submitted()));
  for (const g of generations) endings.ended(g.end, g.ending, g.logs);
  await until(async () => (await history.get(generations.at(-1)?.id ?? "")) !== null, 10_000);

  expect((await history.get(generations[0]?.id ?? ""))?.status).toBe("completed");
  await endings.close();
});

test("on its own thread, the history is written as in the process, and a write the thread fails is refused", async () => {
  const thread = historyOnThread(`file:${join(tmp, "history.sqlite")}`);
  const g = await submitted();
  const inserted = await thread.recordMany({ ends: [g.end], logs: g.logs });

  expect([...inserted]).toEqual([g.id]);
  expect((await history.get(g.id))?.status).toBe("completed");
  expect(await history.logs(g.id)).toHaveLength(2);
  const bad = { ...g.end, id: "not an id", userId: null } as unknown as TerminalEvent;
  // Awaited first: under Bun's `rejects` the thread's answer was never read and the test hung.
  const refused = await thread.recordMany({ ends: [bad], logs: [] }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(refused).toBeInstanceOf(Error);
  // close() waits for a call still being answered.
  const late = await submitted();
  const writing = thread.recordMany({ ends: [late.end], logs: late.logs });
  await thread.close();
  await thread.close();
  expect([...(await writing)]).toEqual([late.id]);
});
