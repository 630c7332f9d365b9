/**
 * Test fixtures for the real local Redis: fresh key prefixes and connection names per run, and
 * a way to drop one of our own connections server-side without touching anyone else's.
 */
import type { Redis } from "./redis-client.ts";

export const TEST_REDIS_URL = "redis://127.0.0.1:6379";

export function freshPrefix(): string {
  return `test-${crypto.randomUUID().slice(0, 8)}:`;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = (await redis.send("SCAN", [cursor, "MATCH", `${prefix}*`, "COUNT", "1000"])) as [
      string,
      string[],
    ];
    if (keys.length > 0) await redis.send("DEL", keys);
    cursor = next;
  } while (cursor !== "0");
}

/** Kills, server-side, every connection named `name` (set with CLIENT SETNAME); returns how many. */
export async function killConnectionsNamed(redis: Redis, name: string): Promise<number> {
  const list = (await redis.send("CLIENT", ["LIST"])) as string;
  const ids = list
    .split("\n")
    .filter((line) => line.split(" ").includes(`name=${name}`))
    .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await redis.send("CLIENT", ["KILL", "ID", id]);
  return ids.length;
}

/** The error `promise` rejects with; fails the test when it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error("expected a rejection, but the promise resolved");
}

/** A loopback URL where nothing listens: the port was just taken from the OS and released. */
export function deadRedisUrl(): string {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const url = `redis://127.0.0.1:${probe.port}`;
  probe.stop(true);
  return url;
}
