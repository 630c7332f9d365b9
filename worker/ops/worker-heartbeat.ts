/**
 * Each worker instance publishes what the console shows about it every few seconds: who it is,
 * what it runs now, what it finished lately, and where its metrics are. The console treats a
 * heartbeat older than three intervals as a worker gone.
 */

import type { Logger } from "../../shared/logger.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { GenerationOutcome } from "../generation/run-generation.ts";
import type { Redis } from "../redis/redis-client.ts";
import type { createMinuteStats } from "./minute-stats.ts";

export const HEARTBEAT_INTERVAL_MS = 5_000;

export interface WorkerHeartbeat {
  id: string;
  instance: string;
  host: string;
  pid: number;
  startedAt: number;
  /** When this heartbeat was written, Unix ms. */
  at: number;
  intervalMs: number;
  maxConcurrent: number;
  inFlight: { id: string; since: number }[];
  /** Outcomes since the instance started. */
  totals: Record<"completed" | "failed" | "canceled" | "expired" | "retries", number>;
  /** Generations finished here in the last minute. */
  lastMinute: number;
  metricsUrl: string | null;
}

export function startWorkerHeartbeat(options: {
  redis: Redis;
  prefix: string;
  identity: Pick<WorkerHeartbeat, "id" | "instance" | "host" | "pid" | "maxConcurrent" | "metricsUrl">;
  stats: ReturnType<typeof createMinuteStats>;
  logger: Logger;
  intervalMs?: number;
}) {
  const { redis, logger, identity } = options;
  const key = redisKeys(options.prefix).opsWorkers();
  const intervalMs = options.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  const startedAt = Date.now();
  const running = new Map<string, number>();
  const totals = { completed: 0, failed: 0, canceled: 0, expired: 0, retries: 0 };
  let finishedAt: number[] = [];

  const beat = async () => {
    const now = Date.now();
    finishedAt = finishedAt.filter((t) => now - t < 60_000);
    const record: WorkerHeartbeat = {
      ...identity,
      startedAt,
      at: now,
      intervalMs,
      inFlight: [...running].map(([id, since]) => ({ id, since })),
      totals: { ...totals },
      lastMinute: finishedAt.length,
    };
    await Promise.all([redis.send("HSET", [key, identity.id, JSON.stringify(record)]), options.stats.flush()]);
  };
  const tick = () => void beat().catch((error) => logger.warn("heartbeat not written", { error }));
  tick();
  const timer = setInterval(tick, intervalMs);

  return {
    running(id: string, on: boolean) {
      if (on) running.set(id, Date.now());
      else running.delete(id);
    },
    outcome(outcome: GenerationOutcome) {
      // An expired request never ran, but it ended here: operators count it with the other endings.
      if (outcome === "completed" || outcome === "failed" || outcome === "canceled" || outcome === "expired") {
        totals[outcome]++;
        finishedAt.push(Date.now());
      }
    },
    retry() {
      totals.retries++;
    },
    /** Stops beating and removes this instance from the list: it left on purpose. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await options.stats.flush().catch(() => {});
      await redis.send("HDEL", [key, identity.id]).catch(() => {});
    },
  };
}
export type WorkerHeartbeatHandle = ReturnType<typeof startWorkerHeartbeat>;

/** Heartbeats older than this many intervals mean the worker is gone; after an hour they are dropped. */
const MISSED_BEATS = 3;
const FORGET_MS = 60 * 60_000;

export type WorkerView = WorkerHeartbeat & { alive: boolean; ageMs: number };

export async function readWorkers(redis: Redis, prefix: string, now = Date.now()): Promise<WorkerView[]> {
  const key = redisKeys(prefix).opsWorkers();
  const flat = (await redis.send("HGETALL", [key])) as string[];
  const views: WorkerView[] = [];
  const forget: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const beat = JSON.parse(flat[i + 1] ?? "{}") as WorkerHeartbeat;
    const ageMs = now - beat.at;
    if (ageMs > FORGET_MS) forget.push(flat[i] ?? "");
    else views.push({ ...beat, ageMs, alive: ageMs <= MISSED_BEATS * beat.intervalMs });
  }
  if (forget.length) await redis.send("HDEL", [key, ...forget]);
  return views.sort((a, b) => Number(b.alive) - Number(a.alive) || a.instance.localeCompare(b.instance));
}
