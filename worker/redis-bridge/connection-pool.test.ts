import { describe, expect, test } from "bun:test";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deadRedisUrl, rejectionOf, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createConnectionPool } from "./connection-pool.ts";

function opener() {
  const opened: Redis[] = [];
  let failNext = false;
  return {
    opened,
    failOnce: () => {
      failNext = true;
    },
    open: async () => {
      if (failNext) {
        failNext = false;
        return createRedis(deadRedisUrl());
      }
      const redis = await createRedis(TEST_REDIS_URL);
      opened.push(redis);
      return redis;
    },
  };
}

function gate() {
  let open: () => void = () => {};
  const passed = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { passed, open };
}

describe("createConnectionPool", () => {
  test("never opens more than max connections; extra callers wait their turn and reuse them", async () => {
    const connections = opener();
    const pool = createConnectionPool(connections.open, 2);
    const g = gate();
    const started: number[] = [];
    const uses = Array.from({ length: 6 }, (_, i) =>
      pool.use(async (redis) => {
        started.push(i);
        await g.passed;
        return redis.send("PING", []);
      }),
    );
    // The first two hold both connections; wait until both are inside their work.
    while (started.length < 2) await Bun.sleep(1);
    // The two opens race each other, so either may start first.
    expect([...started].sort()).toEqual([0, 1]);
    g.open();
    expect(await Promise.all(uses)).toEqual(Array(6).fill("PONG"));
    expect(started.slice(2)).toEqual([2, 3, 4, 5]);
    expect(connections.opened.length).toBe(2);
    pool.close();
  });

  test("a connection whose work threw is closed and replaced", async () => {
    const connections = opener();
    const pool = createConnectionPool(connections.open, 1);
    const error = await rejectionOf(pool.use(async () => Promise.reject(new Error("mid-transaction"))));
    expect(error.message).toBe("mid-transaction");
    expect((await rejectionOf(connections.opened[0]?.send("PING", []) ?? Promise.resolve())).code).toBe(
      "redis_unavailable",
    );
    expect(await pool.use((redis) => redis.send("PING", []))).toBe("PONG");
    expect(connections.opened.length).toBe(2);
    pool.close();
  });

  test("a failed open frees its slot", async () => {
    const connections = opener();
    const pool = createConnectionPool(connections.open, 1);
    connections.failOnce();
    expect((await rejectionOf(pool.use((redis) => redis.send("PING", [])))).code).toBe("redis_unavailable");
    expect(await pool.use((redis) => redis.send("PING", []))).toBe("PONG");
    pool.close();
  });

  test("close refuses waiters and later callers, and closes idle connections", async () => {
    const connections = opener();
    const pool = createConnectionPool(connections.open, 1);
    await pool.use((redis) => redis.send("PING", []));
    const g = gate();
    const holder = pool.use(async () => g.passed);
    const waiter = pool.use((redis) => redis.send("PING", []));
    pool.close();
    pool.close();
    expect((await rejectionOf(waiter)).code).toBe("redis_unavailable");
    expect((await rejectionOf(pool.use((redis) => redis.send("PING", [])))).code).toBe("redis_unavailable");
    g.open();
    await holder;
    expect((await rejectionOf(connections.opened[0]?.send("PING", []) ?? Promise.resolve())).code).toBe(
      "redis_unavailable",
    );
  });
});
