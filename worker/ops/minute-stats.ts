/**
 * Per-minute history of every worker's outcomes and latencies, kept in Redis so the console
 * charts the last hour whichever process serves it and across restarts: each worker adds its
 * counts to the minute's hash (HINCRBY sums instances), histograms as per-bucket counts.
 */
import { redisKeys } from "../../shared/redis-keys.ts";
import type { GenerationOutcome } from "../generation/run-generation.ts";
import type { Redis } from "../redis/redis-client.ts";
import { SECONDS_BUCKETS } from "../runtime/metric-catalogue.ts";

export const MINUTE_MS = 60_000;
const KEEP_SECONDS = 2 * 60 * 60;
export type Sample = { outcome?: GenerationOutcome; generationSeconds?: number; queueSeconds?: number };

/** Index of the first bucket holding `seconds`; the last index is +Inf. */
const bucketOf = (seconds: number) => {
  const i = SECONDS_BUCKETS.findIndex((b) => seconds <= b);
  return i < 0 ? SECONDS_BUCKETS.length : i;
};

export function createMinuteStats(redis: Redis, prefix: string, now = () => Date.now()) {
  const keys = redisKeys(prefix);
  let pending = new Map<number, Map<string, number>>();
  const add = (minute: number, field: string, by = 1) => {
    const fields = pending.get(minute) ?? new Map<string, number>();
    pending.set(minute, fields);
    fields.set(field, (fields.get(field) ?? 0) + by);
  };
  return {
    record(sample: Sample): void {
      const minute = Math.floor(now() / MINUTE_MS);
      if (sample.outcome) add(minute, sample.outcome);
      if (sample.generationSeconds !== undefined) add(minute, `g:${bucketOf(sample.generationSeconds)}`);
      if (sample.queueSeconds !== undefined) add(minute, `q:${bucketOf(sample.queueSeconds)}`);
    },
    /** Adds what was recorded since the last flush; on failure the counts are kept for the next one. */
    async flush(): Promise<void> {
      const batch = pending;
      pending = new Map();
      try {
        await Promise.all(
          [...batch].flatMap(([minute, fields]) => [
            ...[...fields].map(([field, n]) => redis.send("HINCRBY", [keys.opsMinute(minute), field, String(n)])),
            redis.send("EXPIRE", [keys.opsMinute(minute), String(KEEP_SECONDS)]),
          ]),
        );
      } catch (error) {
        for (const [minute, fields] of batch) for (const [field, n] of fields) add(minute, field, n);
        throw error;
      }
    },
  };
}

export interface MinutePoint {
  /** Start of the minute, Unix ms. */
  at: number;
  completed: number;
  failed: number;
  canceled: number;
  queueP50: number | null;
  queueP99: number | null;
  generationP50: number | null;
  generationP99: number | null;
}

/** The quantile of a bucketed histogram, interpolated within its bucket as Prometheus does. */
export function quantile(q: number, counts: number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] ?? 0;
    if (seen + n >= rank && n > 0) {
      const upper = SECONDS_BUCKETS[i];
      const lower = i === 0 ? 0 : (SECONDS_BUCKETS[i - 1] ?? 0);
      // Above the last bound there is no upper edge: report the last bound, as histogram_quantile does.
      if (upper === undefined) return lower;
      return lower + (upper - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return SECONDS_BUCKETS.at(-1) ?? null;
}

/** The last `minutes` minutes, oldest first, the current (partial) minute included. */
export async function readMinutes(
  redis: Redis,
  prefix: string,
  minutes = 60,
  now = Date.now(),
): Promise<MinutePoint[]> {
  const keys = redisKeys(prefix);
  const last = Math.floor(now / MINUTE_MS);
  const range = Array.from({ length: minutes }, (_, i) => last - minutes + 1 + i);
  const hashes = (await Promise.all(range.map((m) => redis.send("HGETALL", [keys.opsMinute(m)])))) as string[][];
  return range.map((minute, i) => {
    const flat = hashes[i] ?? [];
    const fields = new Map<string, number>();
    for (let j = 0; j + 1 < flat.length; j += 2) fields.set(flat[j] ?? "", Number(flat[j + 1]));
    const buckets = (kind: string) =>
      Array.from({ length: SECONDS_BUCKETS.length + 1 }, (_, b) => fields.get(`${kind}:${b}`) ?? 0);
    return {
      at: minute * MINUTE_MS,
      completed: fields.get("completed") ?? 0,
      failed: fields.get("failed") ?? 0,
      canceled: fields.get("canceled") ?? 0,
      queueP50: quantile(0.5, buckets("q")),
      queueP99: quantile(0.99, buckets("q")),
      generationP50: quantile(0.5, buckets("g")),
      generationP99: quantile(0.99, buckets("g")),
    };
  });
}
