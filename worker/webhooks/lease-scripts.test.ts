/**
 * The delivery lease's settle step against real Redis, with deliveries queued by the relay's own
 * Lua (APPLY_STATUS through the snapshot writer): an event the webhook asked for while a delivery
 * of an older state was in flight must be delivered after it, never dropped with it. The claim
 * step also tells the dispatcher when to look next.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import type { WebhookEvent } from "../../shared/job-states.ts";
import { redisKeys, WEBHOOK_PROGRESS_INTERVAL_MS } from "../../shared/redis-keys.ts";
import type { StoredSnapshot } from "../../shared/snapshot.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { luaScript } from "../redis/lua-script.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createSnapshotWriter } from "../relay/snapshot-writer.ts";
import { CLAIM_DUE, SETTLE } from "./lease-scripts.ts";

const prefix = freshPrefix();
const keys = redisKeys(prefix);
const claimDue = luaScript(CLAIM_DUE);
const settleScript = luaScript(SETTLE);
let redis: Redis;
let writer: ReturnType<typeof createSnapshotWriter>;
beforeAll(async () => {
  redis = await createRedis(TEST_REDIS_URL);
  writer = createSnapshotWriter(redis, prefix);
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.close();
});

const leaseKeys = () => [keys.webhooksDue(), keys.webhookLeases(), keys.webhookAttempts()];
async function generation(events: WebhookEvent[]) {
  const request = RequestEvent.create({
    id: uuidv7(),
    userId: "u-lease",
    params: { prompt: "p", style: "noise", width: 256, height: 256, format: "webp", seed: 1 },
    createdAt: new Date().toISOString(),
    attempt: 1,
    webhookUrl: "https://hooks.example.com/x",
    webhookEvents: events,
  });
  await writer.applyRequest(request, 0, "1");
  return request.id;
}
const apply = (id: string, seq: number, fields: Partial<StatusEvent> = {}) =>
  writer.applyStatus(
    StatusEvent.create({
      id,
      userId: "u-lease",
      seq,
      status: "processing",
      progress: 10 * seq,
      stage: seq === 1 ? "started" : "rendering",
      at: new Date().toISOString(),
      workerId: "w",
      attempt: 1,
      ...fields,
    }),
  );
/** Claims what is due, as a dispatcher does; returns the token and the seq of the state it would send. */
async function claim(id: string) {
  const token = crypto.randomUUID();
  const claimed = (await claimDue(redis, leaseKeys(), [60_000, 20, token])) as string[];
  expect(claimed).toContain(id);
  const snapshot = JSON.parse(String(await redis.send("GET", [keys.snapshot(id)]))) as StoredSnapshot;
  return { token, sentSeq: snapshot.seq };
}
const settle = (id: string, token: string, sentSeq: number | "") =>
  settleScript(
    redis,
    [...leaseKeys(), keys.snapshot(id)],
    [id, token, "done", 0, sentSeq, WEBHOOK_PROGRESS_INTERVAL_MS],
  );
const dueAt = async (id: string) => {
  const score = await redis.send("ZSCORE", [keys.webhooksDue(), id]);
  return score === null ? null : Number(score);
};
const redisNow = async () => {
  const [seconds, micros] = (await redis.send("TIME", [])) as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
};

test("a delivery that sent the latest state is done: nothing stays queued", async () => {
  const id = await generation(["start", "progress"]);
  await apply(id, 1);
  const { token, sentSeq } = await claim(id);
  expect(await settle(id, token, sentSeq)).toBe(1);
  expect(await dueAt(id)).toBeNull();
  expect(await redis.send("HGET", [keys.webhookLeases(), id])).toBeNull();
});

test("progress asked for while the start was in flight is queued again when the start settles", async () => {
  const id = await generation(["start", "progress"]);
  await apply(id, 1);
  const { token, sentSeq } = await claim(id);
  // The pending (leased) delivery absorbs the event: its score stays one lease ahead...
  const leased = await dueAt(id);
  await apply(id, 2);
  expect(await dueAt(id)).toBe(leased);
  // ...and settling the older state queues the newer one, a progress interval on.
  const before = await redisNow();
  expect(await settle(id, token, sentSeq)).toBe(1);
  const next = (await dueAt(id)) ?? 0;
  expect(next).toBeGreaterThanOrEqual(before + WEBHOOK_PROGRESS_INTERVAL_MS);
  expect(next).toBeLessThan(leased ?? 0);
  expect(await redis.send("HGET", [keys.webhookAttempts(), id])).toBeNull();
});

test("an ending asked for while a progress delivery was in flight is queued at once", async () => {
  const id = await generation(["progress", "completed"]);
  await apply(id, 1);
  await apply(id, 2);
  const { token, sentSeq } = await claim(id);
  await apply(id, 3, { status: "canceled", stage: "done", progress: 100 });
  // Another dispatcher may take the ending at once (it is due now), replacing the lease...
  const before = await redisNow();
  expect((await dueAt(id)) ?? 0).toBeLessThanOrEqual(before);
  // ...and if none did before this one settles, settling leaves it due now.
  expect(await settle(id, token, sentSeq)).toBe(1);
  expect((await dueAt(id)) ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual((await redisNow()) + 1);
});

test("events the webhook did not ask for queue nothing more", async () => {
  const id = await generation(["start"]);
  await apply(id, 1);
  const { token, sentSeq } = await claim(id);
  await apply(id, 2);
  await apply(id, 3, { status: "canceled", stage: "done", progress: 100 });
  expect(await settle(id, token, sentSeq)).toBe(1);
  expect(await dueAt(id)).toBeNull();
});

test("a delivery that sent no state (its snapshot was gone) just ends", async () => {
  const id = await generation(["start", "progress"]);
  await apply(id, 1);
  const { token } = await claim(id);
  await apply(id, 2);
  expect(await settle(id, token, "")).toBe(1);
  expect(await dueAt(id)).toBeNull();
});

test("a claim answers when the earliest member left is due on Redis's clock, and how many are left", async () => {
  const own = redisKeys(`${prefix}answer:`);
  const ownKeys = [own.webhooksDue(), own.webhookLeases(), own.webhookAttempts()];
  const claimOwn = (count: number) => claimDue(redis, ownKeys, [60_000, count, "t"]);
  expect(await claimOwn(10)).toEqual([-1, 0]);
  const now = await redisNow();
  await redis.send("ZADD", [own.webhooksDue(), String(now + 30_000), "later"]);
  const [idle, one] = (await claimOwn(10)) as [number, number];
  expect(idle).toBeGreaterThan(29_000);
  expect(idle).toBeLessThanOrEqual(30_000);
  expect(one).toBe(1);
  // The claimed one is leased a minute on, so "later" is still the earliest.
  await redis.send("ZADD", [own.webhooksDue(), String(now), "now"]);
  const [next, two, ...claimed] = (await claimOwn(10)) as [number, number, ...unknown[]];
  expect(claimed).toEqual(["now", 1]);
  expect(next).toBeLessThanOrEqual(idle);
  expect(two).toBe(2);
  // More due than the claim could take: due at once.
  await redis.send("ZADD", [own.webhooksDue(), String(now - 1), "a", String(now - 1), "b"]);
  expect(await claimOwn(1)).toEqual([0, 4, "a", 1]);
});
