/**
 * A feed that finds a gap in the live stream while Redis cannot answer (restarting, a connection
 * being replaced) fills it once Redis answers again, and keeps delivering what comes after; if
 * the log stays unreadable, the feed ends for the client to resume rather than skip the gap.
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

/**
 * A feed resumed after seq 1 whose log reads fail `failures` times once the gap shows: seq 2 was
 * logged but its publish lost, seq 3 and 4 arrive live. Resolves once `done` says so.
 */
async function feedOverAGap(failures: number, done: (sent: ServerMessage[], ends: string[]) => boolean) {
  const prefix = freshPrefix();
  const keys = redisKeys(prefix);
  const id = crypto.randomUUID();
  const redis = await createRedis(TEST_REDIS_URL);
  const subscriber = await createRedisSubscriber(TEST_REDIS_URL);
  const real = createFeedReader(redis, prefix);
  let failing = 0;
  const reader = {
    ...real,
    eventsAfter: (generation: string, after: number) =>
      failing-- > 0
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
  const ends: string[] = [];
  try {
    await redis.send("SET", [keys.snapshot(id), JSON.stringify({ id, seq: 1, status: "running" })]);
    const feed = await openFeed({
      id,
      after: 1,
      prefix,
      reader,
      fanout: createFanout(subscriber, silentLogger),
      send: (m) => sent.push(m),
      end: (reason) => ends.push(reason),
    });
    failing = failures;
    for (const seq of [2, 3]) await redis.send("RPUSH", [keys.eventLog(id), event(seq)]);
    expect(await redis.send("PUBLISH", [keys.events(id), event(3)])).toBe(1);
    await redis.send("RPUSH", [keys.eventLog(id), event(4)]);
    expect(await redis.send("PUBLISH", [keys.events(id), event(4)])).toBe(1);
    for (let i = 0; i < 2000 && !done(sent, ends); i++) await Bun.sleep(10);
    await feed.close();
    return { seqs: sent.map((m) => (m as { seq: number }).seq), ends };
  } finally {
    subscriber.close();
    redis.close();
  }
}

test("a gap met while the event log cannot be read is filled when it can, and delivery goes on", async () => {
  const { seqs, ends } = await feedOverAGap(2, (sent) => sent.length >= 3);
  expect(seqs).toEqual([2, 3, 4]);
  expect(ends).toEqual([]);
});

test("a gap the event log cannot fill (Redis away 10 s) ends the feed; nothing after the hole is sent", async () => {
  const { seqs, ends } = await feedOverAGap(1000, (_, ended) => ended.length > 0);
  expect(ends).toEqual(["unreadable"]);
  expect(seqs).toEqual([]);
}, 30_000);
