/**
 * A feed that finds a gap in the live stream while Redis cannot answer (restarting, a connection
 * being replaced) fills it once Redis answers again, and keeps delivering what comes after.
 */
import { expect, test } from "bun:test";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { ServerMessage } from "../../shared/ws-messages.ts";
import { createRedis, createRedisSubscriber } from "../redis/redis-client.ts";
import { freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { createFanout } from "./fanout.ts";
import { createFeedReader } from "./feed-reader.ts";
import { openFeed } from "./generation-feed.ts";

test("a gap met while the event log cannot be read is filled when it can, and delivery goes on", async () => {
  const prefix = freshPrefix();
  const keys = redisKeys(prefix);
  const id = crypto.randomUUID();
  const redis = await createRedis(TEST_REDIS_URL);
  const subscriber = await createRedisSubscriber(TEST_REDIS_URL);
  const real = createFeedReader(redis, prefix);
  // The log read that fills the gap fails twice, as it does while Redis restarts.
  let failures = 0;
  const reader = {
    ...real,
    eventsAfter: (generation: string, after: number) =>
      failures-- > 0
        ? Promise.reject(new Error("redis_unavailable: connection closed"))
        : real.eventsAfter(generation, after),
  };
  const event = (seq: number) =>
    JSON.stringify({
      type: "status",
      id,
      seq,
      status: "running",
      progress: seq,
      stage: "rendering",
      at: "2026-01-01T00:00:00.000Z",
    });
  const sent: ServerMessage[] = [];
  try {
    await redis.send("SET", [keys.snapshot(id), JSON.stringify({ id, seq: 1, status: "running" })]);
    const feed = await openFeed({
      id,
      after: 1,
      prefix,
      reader,
      fanout: createFanout(subscriber, silentLogger),
      send: (m) => sent.push(m),
      end: () => {},
    });
    failures = 2;
    // Seq 2 was logged but its publish lost; seq 3 arrives live and shows the gap.
    for (const seq of [2, 3]) await redis.send("RPUSH", [keys.eventLog(id), event(seq)]);
    expect(await redis.send("PUBLISH", [keys.events(id), event(3)])).toBe(1);
    await redis.send("RPUSH", [keys.eventLog(id), event(4)]);
    expect(await redis.send("PUBLISH", [keys.events(id), event(4)])).toBe(1);
    for (let i = 0; i < 400 && sent.length < 3; i++) await Bun.sleep(10);
    expect(sent.map((m) => (m as { seq: number }).seq)).toEqual([2, 3, 4]);
    await feed.close();
  } finally {
    subscriber.close();
    redis.close();
  }
});
