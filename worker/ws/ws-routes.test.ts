import { afterAll, beforeAll, expect, test } from "bun:test";
import { websocket } from "hono/bun";
import { mintEventToken } from "../../shared/auth/event-token.ts";
import { createLogger, type LogLevel } from "../../shared/logger.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { createRedis, createRedisSubscriber, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { until } from "../testing/until.ts";
import { createFanout } from "./fanout.ts";
import { createFeedReader } from "./feed-reader.ts";
import { createLiveSlots } from "./live-slots.ts";
import { liveRoutes } from "./ws-routes.ts";

const prefix = freshPrefix();
const secret = "ws-routes-test-secret-at-least-32-bytes";
let redis: Redis;
beforeAll(async () => {
  redis = await createRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.close();
});

test("a feed still opening when the server shuts down is no error: the socket closes 1001, nothing is logged above debug", async () => {
  const logged: { level: LogLevel; line: string }[] = [];
  const logger = createLogger({ level: "debug", sink: (level, line) => logged.push({ level, line }) });
  const subscriber = await createRedisSubscriber(TEST_REDIS_URL);
  const fanout = createFanout(subscriber, logger);
  // The feed's subscribe waits here, so shutdown can land between the upgrade and the feed.
  let reached!: () => void;
  const watching = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const slots = createLiveSlots({ redis, prefix, maxPerUser: 5, maxPerAddress: 5, leaseMs: 30_000, logger });
  const live = liveRoutes({
    secret,
    prefix,
    reader: createFeedReader(redis, prefix),
    fanout: {
      ...fanout,
      watch: async (...args: Parameters<typeof fanout.watch>) => {
        reached();
        await gate;
        return fanout.watch(...args);
      },
    },
    studioOrigin: "http://127.0.0.1",
    slots,
    trustedClientIpHeader: "",
    maxBufferedBytes: 1 << 20,
    logger,
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: live.app.fetch, websocket });
  try {
    const id = uuidv7();
    const token = await mintEventToken("u1", id, secret);
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws/generations/${id}?token=${token}`);
    const closed = new Promise<number>((resolve) => {
      socket.onclose = (event) => resolve(event.code);
    });
    await watching;
    live.closeAll();
    subscriber.close();
    release();
    expect(await closed).toBe(1001);
    // The feed's failure is handled once its open settles: wait for its line, whatever its level.
    await until(() => logged.some((entry) => entry.line.includes("live feed")));
    expect(logged.filter((entry) => entry.level === "error" || entry.level === "warn")).toEqual([]);
    expect(logged.find((entry) => entry.line.includes("live feed"))?.level).toBe("debug");
  } finally {
    release();
    slots.close();
    subscriber.close();
    server.stop(true);
  }
});
