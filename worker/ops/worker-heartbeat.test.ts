import { afterAll, beforeAll, expect, test } from "bun:test";
import { redisKeys } from "../../shared/redis-keys.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { createMinuteStats } from "./minute-stats.ts";
import { readWorkers, startWorkerHeartbeat, type WorkerHeartbeat } from "./worker-heartbeat.ts";

let redis: Redis;
const prefix = freshPrefix();
beforeAll(async () => {
  redis = await createRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.close();
});

const identity = { id: "w-1", instance: "1", host: "h", pid: 1, maxConcurrent: 4, metricsUrl: null };

test("a worker's heartbeat says what runs there and what it finished; stopping removes it", async () => {
  const beat = startWorkerHeartbeat({
    redis,
    prefix,
    identity,
    stats: createMinuteStats(redis, prefix),
    logger: silentLogger,
    intervalMs: 20,
  });
  beat.running("g-1", true);
  beat.running("g-2", true);
  beat.running("g-1", false);
  beat.outcome("completed");
  beat.outcome("expired");
  beat.outcome("duplicate");
  beat.retry();
  // The next beat carries these; wait for it rather than for a time.
  let [view] = await readWorkers(redis, prefix);
  for (let i = 0; i < 250 && view?.totals.completed !== 1; i++) {
    await Bun.sleep(20);
    [view] = await readWorkers(redis, prefix);
  }
  expect(view).toMatchObject({
    id: "w-1",
    alive: true,
    inFlight: [{ id: "g-2" }],
    totals: { completed: 1, failed: 0, canceled: 0, expired: 1, retries: 1 },
    lastMinute: 2,
  });
  await beat.stop();
  expect(await readWorkers(redis, prefix)).toEqual([]);
});

test("a heartbeat three intervals old is a worker gone; one over an hour old is forgotten", async () => {
  const now = Date.now();
  const stale = (id: string, ageMs: number): WorkerHeartbeat => ({
    ...identity,
    id,
    startedAt: now - ageMs,
    at: now - ageMs,
    intervalMs: 5000,
    inFlight: [],
    totals: { completed: 0, failed: 0, canceled: 0, expired: 0, retries: 0 },
    lastMinute: 0,
  });
  const key = redisKeys(prefix).opsWorkers();
  await redis.send("HSET", [key, "recent", JSON.stringify(stale("recent", 1000))]);
  await redis.send("HSET", [key, "silent", JSON.stringify(stale("silent", 20_000))]);
  await redis.send("HSET", [key, "ancient", JSON.stringify(stale("ancient", 2 * 3600_000))]);
  const views = await readWorkers(redis, prefix, now);
  expect(views.map((v) => [v.id, v.alive])).toEqual([
    ["recent", true],
    ["silent", false],
  ]);
  expect(await redis.send("HEXISTS", [key, "ancient"])).toBe(0);
});
