import { afterAll, beforeAll, expect, test } from "bun:test";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createMinuteStats, MINUTE_MS, quantile, readMinutes } from "./minute-stats.ts";

let redis: Redis;
const prefix = freshPrefix();
beforeAll(async () => {
  redis = await createRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.close();
});

test("quantiles interpolate within the bucket, as Prometheus's histogram_quantile does", () => {
  // Bounds 0.001, 0.005, 0.01, …: four samples in (0.005, 0.01].
  const counts = [0, 0, 4];
  expect(quantile(0.5, counts)).toBeCloseTo(0.0075, 6);
  expect(quantile(0.5, [])).toBeNull();
});

test("two workers' samples add up per minute, read back oldest first with their percentiles", async () => {
  let now = 100 * MINUTE_MS + 5_000;
  const a = createMinuteStats(redis, prefix, () => now);
  const b = createMinuteStats(redis, prefix, () => now);
  a.record({ outcome: "completed", generationSeconds: 0.2 });
  b.record({ outcome: "completed", generationSeconds: 0.2 });
  b.record({ outcome: "failed", generationSeconds: 2 });
  a.record({ queueSeconds: 0.003 });
  now += MINUTE_MS;
  a.record({ outcome: "completed", generationSeconds: 0.04 });
  await Promise.all([a.flush(), b.flush()]);
  await a.flush(); // nothing new: adds nothing

  const minutes = await readMinutes(redis, prefix, 3, now);
  expect(minutes.map((m) => m.at)).toEqual([99 * MINUTE_MS, 100 * MINUTE_MS, 101 * MINUTE_MS]);
  expect(minutes.map((m) => [m.completed, m.failed])).toEqual([
    [0, 0],
    [2, 1],
    [1, 0],
  ]);
  expect(minutes[0]?.generationP50).toBeNull();
  expect(minutes[1]?.generationP50).toBeGreaterThan(0.1);
  expect(minutes[1]?.generationP50).toBeLessThanOrEqual(0.25);
  expect(minutes[1]?.generationP99).toBeGreaterThan(1);
  expect(minutes[1]?.queueP99).toBeLessThanOrEqual(0.005);
});
