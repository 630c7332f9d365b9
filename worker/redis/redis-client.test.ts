import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PipelineError, ProgrammerError } from "../../shared/errors.ts";
import { createRedis, createRedisSubscriber, type Redis, RedisReplyError } from "./redis-client.ts";
import {
  deadRedisUrl,
  deleteKeys,
  freshPrefix,
  killConnectionsNamed,
  rejectionOf,
  TEST_REDIS_URL,
} from "./redis-test-env.ts";

const prefix = freshPrefix();
let redis: Redis;

beforeAll(async () => {
  redis = await createRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.close();
});

/** Collects pub/sub messages and lets a test wait for the next one on a channel. */
function inbox() {
  const seen: string[] = [];
  const waiters: { channel: string; resolve: (message: string) => void }[] = [];
  const listener = (message: string, channel: string) => {
    seen.push(`${channel}:${message}`);
    const i = waiters.findIndex((w) => w.channel === channel);
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(message);
  };
  const next = (channel: string) => new Promise<string>((resolve) => waiters.push({ channel, resolve }));
  return { seen, listener, next };
}

describe("createRedis", () => {
  test("round-trips unicode values", async () => {
    const value = "héllo ✓ 画像 🎨";
    expect(await redis.send("SET", [`${prefix}s`, value])).toBe("OK");
    expect(await redis.send("GET", [`${prefix}s`])).toBe(value);
    expect(await redis.send("GET", [`${prefix}missing`])).toBeNull();
  });

  test("answers in RESP2 shapes, as Upstash REST does", async () => {
    await redis.send("HSET", [`${prefix}h`, "a", "1", "b", "2"]);
    expect(await redis.send("HGETALL", [`${prefix}h`])).toEqual(["a", "1", "b", "2"]);
    await redis.send("ZADD", [`${prefix}z`, "1.5", "m1", "3", "m2"]);
    expect(await redis.send("ZSCORE", [`${prefix}z`, "m1"])).toBe("1.5");
    expect(await redis.send("ZRANGE", [`${prefix}z`, "0", "-1", "WITHSCORES"])).toEqual(["m1", "1.5", "m2", "3"]);
    expect(await redis.send("INCR", [`${prefix}n`])).toBe(1);
  });

  test("error replies reject with Redis's own message", async () => {
    await redis.send("SET", [`${prefix}str`, "x"]);
    const error = await rejectionOf(redis.send("HGET", [`${prefix}str`, "f"]));
    expect(error).toBeInstanceOf(RedisReplyError);
    expect(error.code).toBe("redis_error");
    expect(error.retryable).toBe(false);
    expect(error.message).toStartWith("WRONGTYPE Operation against a key holding the wrong kind of value");
  });

  test("only replies saying the server cannot take a command now are retryable; a script refusing its input is not", () => {
    for (const text of [
      "OOM command not allowed when used memory > 'maxmemory'.",
      "LOADING Redis is loading",
      "MISCONF Errors writing to the AOF file",
      "BUSY Redis is busy running a script",
    ])
      expect(new RedisReplyError(text).retryable).toBe(true);
    for (const text of [
      "ERR user_script:3: Expected value but found invalid unicode escape code at character 146",
      "WRONGTYPE Operation against a key holding the wrong kind of value",
      "NOPERM this user has no permissions to access one of the keys used as arguments",
    ])
      expect(new RedisReplyError(text).retryable).toBe(false);
  });

  test("error replies inside EXEC come back as values, the rest of the transaction still applies", async () => {
    const tx = await createRedis(TEST_REDIS_URL);
    try {
      await tx.send("SET", [`${prefix}tx-str`, "x"]);
      const replies = await Promise.all([
        tx.send("MULTI", []),
        tx.send("HGET", [`${prefix}tx-str`, "f"]),
        tx.send("INCR", [`${prefix}tx-n`]),
        tx.send("EXEC", []),
      ]);
      const exec = replies[3] as unknown[];
      expect(exec[0]).toBeInstanceOf(RedisReplyError);
      expect((exec[0] as Error).message).toStartWith("WRONGTYPE");
      expect(exec[1]).toBe(1);
    } finally {
      tx.close();
    }
  });

  test("many concurrent callers each get their own reply", async () => {
    const n = 600;
    await Promise.all(Array.from({ length: n }, (_, i) => redis.send("SET", [`${prefix}c${i}`, `v${i}`])));
    const outcomes = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        i % 3 === 0 ? redis.send("LPUSH", [`${prefix}c${i}`, "x"]) : redis.send("GET", [`${prefix}c${i}`]),
      ),
    );
    outcomes.forEach((outcome, i) => {
      if (i % 3 === 0) expect(outcome.status).toBe("rejected");
      else expect(outcome).toEqual({ status: "fulfilled", value: `v${i}` });
    });
  });

  test("an unreachable Redis fails at once with a retryable redis_unavailable", async () => {
    const url = deadRedisUrl();
    const error = await rejectionOf(createRedis(url));
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.code).toBe("redis_unavailable");
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(new URL(url).host);
  });

  test("reconnects after the server drops the connection, still speaking RESP2", async () => {
    const name = `${prefix.slice(0, -1)}-cmd`;
    const own = await createRedis(TEST_REDIS_URL, { name });
    try {
      const before = await own.send("CLIENT", ["ID"]);
      expect(await killConnectionsNamed(redis, name)).toBe(1);
      let after: unknown;
      for (let attempt = 0; attempt < 5 && after === undefined; attempt++) {
        after = await own.send("CLIENT", ["ID"]).catch((error) => {
          expect(error.code).toBe("redis_unavailable");
          return undefined;
        });
      }
      expect(after).not.toBe(before);
      await own.send("HSET", [`${prefix}rh`, "k", "v"]);
      expect(await own.send("HGETALL", [`${prefix}rh`])).toEqual(["k", "v"]);
    } finally {
      own.close();
    }
  });

  test("close is idempotent and later sends fail", async () => {
    const own = await createRedis(TEST_REDIS_URL);
    own.close();
    own.close();
    const error = await rejectionOf(own.send("PING", []));
    expect(error.code).toBe("redis_unavailable");
  });
});

describe("createRedisSubscriber", () => {
  test("delivers each message to its channel's listener, and stops after unsubscribe", async () => {
    const subscriber = await createRedisSubscriber(TEST_REDIS_URL);
    const a = inbox();
    const b = inbox();
    const [ca, cb] = [`${prefix}chan-a`, `${prefix}chan-b`];
    try {
      await subscriber.subscribe(ca, a.listener);
      await subscriber.subscribe(cb, b.listener);
      const gotA = a.next(ca);
      const gotB = b.next(cb);
      expect(await redis.send("PUBLISH", [ca, "one"])).toBe(1);
      expect(await redis.send("PUBLISH", [cb, "two"])).toBe(1);
      expect([await gotA, await gotB]).toEqual(["one", "two"]);

      await subscriber.unsubscribe(ca);
      expect(await redis.send("PUBLISH", [ca, "after"])).toBe(0);
      // Messages on one connection arrive in order: a stray one on `ca` would precede this marker.
      const marker = b.next(cb);
      await redis.send("PUBLISH", [cb, "marker"]);
      expect(await marker).toBe("marker");
      expect(a.seen).toEqual([`${ca}:one`]);
      expect(b.seen).toEqual([`${cb}:two`, `${cb}:marker`]);
    } finally {
      subscriber.close();
      subscriber.close();
    }
  });

  test("refuses a second listener on the same channel", async () => {
    const subscriber = await createRedisSubscriber(TEST_REDIS_URL);
    try {
      await subscriber.subscribe(`${prefix}dup`, () => {});
      await expect(subscriber.subscribe(`${prefix}dup`, () => {})).rejects.toBeInstanceOf(ProgrammerError);
    } finally {
      subscriber.close();
    }
  });

  test("subscribes every channel again after the connection drops", async () => {
    const name = `${prefix.slice(0, -1)}-sub`;
    let resubscribed: (channels: string[]) => void = () => {};
    const back = new Promise<string[]>((resolve) => {
      resubscribed = resolve;
    });
    const subscriber = await createRedisSubscriber(TEST_REDIS_URL, {
      name,
      reconnectBaseMs: 10,
      onResubscribed: (channels) => resubscribed(channels),
    });
    const box = inbox();
    const [c1, c2] = [`${prefix}re-1`, `${prefix}re-2`];
    try {
      await subscriber.subscribe(c1, box.listener);
      await subscriber.subscribe(c2, box.listener);
      expect(await killConnectionsNamed(redis, name)).toBe(1);
      expect((await back).sort()).toEqual([c1, c2].sort());
      const got = box.next(c2);
      expect(await redis.send("PUBLISH", [c2, "again"])).toBe(1);
      expect(await got).toBe("again");
    } finally {
      subscriber.close();
    }
  });
});
