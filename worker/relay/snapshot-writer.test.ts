import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import type { WebhookEvent } from "../../shared/job-states.ts";
import { GENERATION_TTL_SECONDS, redisKeys, WEBHOOK_PROGRESS_INTERVAL_MS } from "../../shared/redis-keys.ts";
import { RESET_FOR_REPLAY } from "../../shared/redis-scripts.ts";
import type { StoredSnapshot } from "../../shared/snapshot.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { luaScript } from "../redis/lua-script.ts";
import { createRedis, createRedisSubscriber, type Redis, type RedisSubscriber } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { until } from "../testing/until.ts";
import { createSnapshotWriter } from "./snapshot-writer.ts";

const prefix = freshPrefix();
const keys = redisKeys(prefix);
let redis: Redis;
let writer: ReturnType<typeof createSnapshotWriter>;
let subscriber: RedisSubscriber;
const heard: string[] = [];
beforeAll(async () => {
  redis = await createRedis(TEST_REDIS_URL);
  writer = createSnapshotWriter(redis, prefix);
  subscriber = await createRedisSubscriber(TEST_REDIS_URL);
  await subscriber.subscribe(keys.webhooksQueued(), (message) => heard.push(message));
});
afterAll(async () => {
  subscriber.close();
  await deleteKeys(redis, prefix);
  redis.close();
});

const request = (extra: Partial<RequestEvent> = {}) =>
  RequestEvent.create({
    id: uuidv7(),
    userId: "u1",
    params: { prompt: "p", style: "noise", width: 256, height: 256, format: "webp", seed: 1 },
    createdAt: new Date().toISOString(),
    attempt: 1,
    ...extra,
  });
const status = (id: string, seq: number, fields: Partial<StatusEvent> = {}) =>
  StatusEvent.create({
    id,
    userId: "u1",
    seq,
    status: "processing",
    progress: 10 * seq,
    stage: seq === 1 ? "started" : "rendering",
    at: new Date().toISOString(),
    workerId: "w1",
    attempt: 1,
    ...fields,
  });
const due = async (id: string) => {
  const score = await redis.send("ZSCORE", [keys.webhooksDue(), id]);
  return score === null ? null : Number(score);
};
const claim = (id: string) => redis.send("ZREM", [keys.webhooksDue(), id]);
/** What was published on webhooksQueued so far: a fence published after it arrives last. */
async function published(): Promise<string[]> {
  const fence = `fence-${crypto.randomUUID()}`;
  await redis.send("PUBLISH", [keys.webhooksQueued(), fence]);
  await until(() => heard.includes(fence));
  return heard.splice(0).slice(0, -1);
}
const resetForReplay = luaScript(RESET_FOR_REPLAY);
/** A replay's reset, as `replayFailed` runs it: the attempt it chose, or null when not failed. */
const replay = (id: string, asked: number) =>
  resetForReplay(
    redis,
    [keys.snapshot, keys.eventLog, keys.events, keys.terminal, keys.cancel, keys.attemptFloor].map((key) => key(id)),
    [new Date().toISOString(), GENERATION_TTL_SECONDS, 50, asked],
  );
const snapshot = async (id: string) =>
  JSON.parse(String(await redis.send("GET", [keys.snapshot(id)]))) as StoredSnapshot;

async function withWebhook(events: WebhookEvent[] | undefined) {
  const event = request({ webhookUrl: "https://hooks.example.com/x", ...(events ? { webhookEvents: events } : {}) });
  await writer.applyRequest(event, 0, "10");
  return event.id;
}

describe("webhook events filter, where deliveries are queued", () => {
  test("by default only the end is delivered", async () => {
    const id = await withWebhook(undefined);
    await writer.applyStatus(status(id, 1));
    await writer.applyStatus(status(id, 2));
    expect(await due(id)).toBeNull();
    await writer.applyStatus(status(id, 3, { status: "canceled", stage: "done", progress: 100 }));
    expect(await due(id)).not.toBeNull();
  });

  test("start is the first processing event only; without completed, no ending is sent", async () => {
    const id = await withWebhook(["start"]);
    await writer.applyStatus(status(id, 1));
    expect(await due(id)).not.toBeNull();
    await claim(id);
    await writer.applyStatus(status(id, 2));
    await writer.applyStatus(
      status(id, 3, {
        status: "failed",
        stage: "done",
        progress: 100,
        error: { code: "timeout", message: "slow", retryable: false },
      }),
    );
    expect(await due(id)).toBeNull();
  });

  test(`progress is throttled to one queued delivery per ${WEBHOOK_PROGRESS_INTERVAL_MS} ms, and the end is never held back`, async () => {
    const id = await withWebhook(["progress", "completed"]);
    await writer.applyStatus(status(id, 1));
    expect(await due(id)).toBeNull();
    await writer.applyStatus(status(id, 2));
    const first = await due(id);
    expect(first).not.toBeNull();
    // A pending delivery absorbs later progress: it sends the snapshot as it is when it goes out.
    await writer.applyStatus(status(id, 3));
    expect(await due(id)).toBe(first);
    await claim(id);
    await writer.applyStatus(status(id, 4));
    const second = (await due(id)) ?? 0;
    expect(second).toBeGreaterThanOrEqual((first ?? 0) + WEBHOOK_PROGRESS_INTERVAL_MS);
    await writer.applyStatus(status(id, 5, { status: "expired", stage: "done", progress: 100 }));
    expect((await due(id)) ?? Number.POSITIVE_INFINITY).toBeLessThan(second);
  });

  test("a delivery queued, or brought forward, is published on webhooksQueued to wake idle dispatchers", async () => {
    await published();
    const id = await withWebhook(["progress", "completed"]);
    await writer.applyStatus(status(id, 1));
    await writer.applyStatus(status(id, 2));
    // Absorbed by the pending delivery: nothing new to claim.
    await writer.applyStatus(status(id, 3));
    expect(await published()).toEqual([id]);
    await claim(id);
    // Queued a progress interval on, then brought forward by the end.
    await writer.applyStatus(status(id, 4));
    await writer.applyStatus(status(id, 5, { status: "canceled", stage: "done", progress: 100 }));
    expect(await published()).toEqual([id, id]);
    // The start is queued; an ending not asked for queues nothing and publishes nothing.
    const quiet = await withWebhook(["start"]);
    await writer.applyStatus(status(quiet, 1));
    await claim(quiet);
    await writer.applyStatus(status(quiet, 2, { status: "canceled", stage: "done", progress: 100 }));
    expect(await published()).toEqual([quiet]);
  });
});

describe("previews, logs, priority and tombstones", () => {
  test("a preview is kept while processing, published as its own message, and dropped at the end", async () => {
    const event = request();
    await writer.applyRequest(event, 0, "11");
    const preview = { format: "webp" as const, width: 2, height: 2, data: "UklGRg==" };
    const message = await writer.applyStatus(
      status(event.id, 2, { preview, log: { level: "info", message: "preview" } }),
    );
    expect(message).toMatchObject({ type: "preview", preview: { url: "data:image/webp;base64,UklGRg==", width: 2 } });
    expect((await snapshot(event.id)).preview?.url).toBe("data:image/webp;base64,UklGRg==");
    await writer.applyStatus(status(event.id, 3, { status: "canceled", stage: "done", progress: 100 }));
    expect((await snapshot(event.id)).preview).toBeUndefined();
    const lines = (await redis.send("LRANGE", [keys.logs(event.id), "0", "-1"])) as string[];
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { at: expect.any(String), level: "info", message: "preview", attempt: 1, worker: "w1" },
    ]);
  });

  test("the terminal event ends the generation even when a duplicate run numbered later events higher", async () => {
    const event = request();
    await writer.applyRequest(event, 0, "12");
    await writer.applyStatus(status(event.id, 2));
    // Another worker, redelivered the request after a rebalance, reserved a later block of numbers.
    await writer.applyStatus(status(event.id, 40, { stage: "storing", progress: 95 }));
    expect(await writer.applyStatus(status(event.id, 3))).toBeNull();
    const before = (await snapshot(event.id)).seq;
    const ending = await writer.applyStatus(status(event.id, 4, { status: "canceled", stage: "done", progress: 100 }));
    // Clients still see consecutive numbers: the end comes right after the last event they saw.
    expect(ending).toMatchObject({ type: "canceled", seq: before + 1 });
    expect((await snapshot(event.id)).status).toBe("canceled");
    // Nothing after the end, whatever its number.
    expect(await writer.applyStatus(status(event.id, 41, { stage: "storing", progress: 95 }))).toBeNull();
  });

  test("queue scores put high before normal before low, then Kafka order", async () => {
    const low = request({ priority: "low" });
    const high = request({ priority: "high" });
    const normal = request();
    await writer.applyRequest(low, 5, "1");
    await writer.applyRequest(high, 5, "9");
    await writer.applyRequest(normal, 5, "3");
    expect(await redis.send("ZRANGE", [keys.queue(5), "0", "-1"])).toEqual([high.id, normal.id, low.id]);
    // A hand-back puts it in line again at its priority.
    await writer.applyStatus(status(low.id, 1));
    await writer.applyStatus(status(low.id, 2, { status: "queued", stage: "queued", progress: 0 }));
    expect(await redis.send("ZRANK", [keys.queue(5), low.id])).toBe(2);
  });

  test("a replay's record, on another partition, is the one queued and the one taken out of its queue", async () => {
    const event = request();
    await writer.applyRequest(event, 1, "4");
    await writer.applyStatus(status(event.id, 1));
    const error = { code: "content_policy", message: "no", retryable: false } as const;
    await writer.applyStatus(status(event.id, 2, { status: "failed", stage: "done", progress: 100, error }));
    // Asked for attempt 2 (the failure's tries + 1): the replay gets it, and no record below it runs.
    expect(await replay(event.id, 2)).toBe(2);
    expect(await redis.send("GET", [keys.attemptFloor(event.id)])).toBe("2");

    await writer.applyRequest({ ...event, attempt: 2 }, 4, "7");
    expect(await snapshot(event.id)).toMatchObject({ status: "queued", partition: 4, offset: "7" });
    expect(await redis.send("ZSCORE", [keys.queue(4), event.id])).not.toBeNull();
    await writer.applyStatus(status(event.id, 3, { attempt: 2 }));
    for (const partition of [1, 4]) expect(await redis.send("ZSCORE", [keys.queue(partition), event.id])).toBeNull();
  });

  test("each replay's attempt is above the last one's, though every failure reports its run's tries from 1", async () => {
    const event = request();
    const error = { code: "content_policy", message: "no", retryable: false } as const;
    const fails = (seq: number) => status(event.id, seq, { status: "failed", stage: "done", progress: 100, error });
    await writer.applyRequest(event, 0, "1");
    await writer.applyStatus(fails(1));
    expect(await replay(event.id, 2)).toBe(2);
    expect(await replay(event.id, 2)).toBeNull(); // not failed any more
    await writer.applyStatus(fails(3));
    expect(await replay(event.id, 2)).toBe(3);
    expect(await redis.send("GET", [keys.attemptFloor(event.id)])).toBe("3");
    // At the request event's bound there is no higher attempt: nothing is reset.
    await redis.send("SET", [keys.attemptFloor(event.id), "100", "EX", "60"]);
    await writer.applyStatus(fails(5));
    expect(await replay(event.id, 2)).toBe(-1);
    expect(await snapshot(event.id)).toMatchObject({ status: "failed" });
  });

  test("nothing is written about a deleted generation", async () => {
    const event = request();
    await redis.send("SET", [keys.deleted(event.id), "1", "EX", "60"]);
    await writer.applyRequest(event, 0, "12");
    expect(await writer.applyStatus(status(event.id, 1, { log: { level: "info", message: "x" } }))).toBeNull();
    for (const key of [keys.snapshot(event.id), keys.logs(event.id), keys.eventLog(event.id)])
      expect(await redis.send("EXISTS", [key])).toBe(0);
    expect(await redis.send("ZSCORE", [keys.userGenerations("u1"), event.id])).toBeNull();
  });
});

describe("a worker's live apply, sent behind the one before it without waiting", () => {
  test("is refused, writing nothing, while the event it names is not in; the relay then applies both in order", async () => {
    const event = request();
    await writer.applyRequest(event, 0, "1");
    const events = async () =>
      ((await redis.send("LRANGE", [keys.eventLog(event.id), "0", "-1"])) as string[]).map(
        (raw) => (JSON.parse(raw) as { progress: number }).progress,
      );
    expect(await writer.applyLive(status(event.id, 1), 0)).toBe(true);
    // Event 2's live apply failed (never written): event 3, sent behind it, must not land over the gap.
    expect(await writer.applyLive(status(event.id, 3), 2)).toBe(false);
    expect((await snapshot(event.id)).seq).toBe(1);
    expect(await events()).toEqual([10]);
    // The relay, in Kafka order, applies what the worker could not.
    expect(await writer.applyStatus(status(event.id, 2))).not.toBeNull();
    expect(await writer.applyStatus(status(event.id, 3))).not.toBeNull();
    expect(await events()).toEqual([10, 20, 30]);
    // Once the one it names is in, a live apply goes through.
    expect(await writer.applyLive(status(event.id, 4), 3)).toBe(true);
    expect((await snapshot(event.id)).seq).toBe(4);
  });

  test("an ended or deleted generation's events are dropped, not refused: a refusal would only mean a gap", async () => {
    const ended = request();
    await writer.applyRequest(ended, 0, "2");
    await writer.applyStatus(status(ended.id, 1, { status: "canceled", stage: "done", progress: 100 }));
    expect(await writer.applyLive(status(ended.id, 3), 2)).toBe(true);
    expect((await snapshot(ended.id)).status).toBe("canceled");
    const deleted = request();
    await writer.applyRequest(deleted, 0, "3");
    await redis.send("SET", [keys.deleted(deleted.id), "1"]);
    expect(await writer.applyLive(status(deleted.id, 3), 2)).toBe(true);
    expect((await snapshot(deleted.id)).seq).toBe(0);
  });
});
