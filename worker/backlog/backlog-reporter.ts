/**
 * The figure behind the edge's backlog guard. The edge speaks only HTTP and cannot ask Kafka,
 * so this measures, every `intervalMs`, how many requests the worker group has not finished —
 * the request topic's end offsets minus the group's committed offsets (workers commit only up to
 * their lowest unfinished request) — and writes it to Redis with a time to live of three
 * intervals: a reporter that stops leaves no stale figure behind; the edge reads none as unknown.
 */
import type { Logger } from "../../shared/logger.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { Admin } from "../kafka/kafka-client.ts";
import type { Redis } from "../redis/redis-client.ts";

export async function measureLag(admin: Admin, topic: string, groupId: string): Promise<number> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const positions = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  return ends.reduce((sum, end) => {
    const committedAt = positions.get(end.partition) ?? -1;
    // A partition the group never committed on is read from its start.
    const position = committedAt >= 0 ? committedAt : Number(end.low);
    return sum + Math.max(0, Number(end.high) - position);
  }, 0);
}

export function createBacklogReporter(options: {
  admin: Admin;
  redis: Redis;
  prefix: string;
  topic: string;
  groupId: string;
  intervalMs: number;
  logger: Logger;
}) {
  const { admin, redis, logger } = options;
  const key = redisKeys(options.prefix).backlog();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  let connected = false;
  let stopped = false;

  async function report(): Promise<void> {
    if (!connected) {
      await admin.connect();
      connected = true;
    }
    const lag = await measureLag(admin, options.topic, options.groupId);
    const value = JSON.stringify({ lag, at: new Date().toISOString() });
    await redis.send("SET", [key, value, "PX", String(options.intervalMs * 3)]);
  }

  const loop = () => {
    if (stopped) return;
    running = report()
      .catch((error) => logger.warn("could not measure the request backlog", { error }))
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(loop, options.intervalMs);
      });
  };

  return {
    start: loop,
    /** Stops measuring (the last figure expires on its own); safe to call twice. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      if (connected) await admin.disconnect().catch(() => {});
      connected = false;
    },
  };
}
