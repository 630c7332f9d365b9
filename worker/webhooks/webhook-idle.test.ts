/**
 * The dispatcher idles without polling, on real Redis: with a 30 s idle cap it claims only when
 * there is something to claim — a delivery queued by APPLY_STATUS on another connection (as a
 * worker's live path or another relay would), a retry coming due, a resubscribe after lost
 * publishes — and each is still sent well before the cap. Claims are counted on the
 * dispatcher's own (real) connection, so other tests' use of the shared Redis does not count.
 */
import { afterAll, expect, test } from "bun:test";
import { sha256Hex } from "../../shared/digest.ts";
import { RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { newWebhookSecret } from "../../shared/webhook-secret.ts";
import { createRedis, createRedisSubscriber, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, killConnectionsNamed, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createSnapshotWriter } from "../relay/snapshot-writer.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { until } from "../testing/until.ts";
import { CLAIM_DUE } from "./lease-scripts.ts";
import { createWebhookDispatcher } from "./webhook-dispatcher.ts";

const IDLE_CAP_MS = 30_000;
/** Well under the cap: a delivery waiting for the cap would miss it. */
const PROMPTLY_MS = 10_000;
const CLAIM_SHA = new Bun.CryptoHasher("sha1").update(CLAIM_DUE).digest("hex");

let failuresLeft = 0;
const received: { id: string; at: number }[] = [];
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    await request.text();
    received.push({ id: request.headers.get("webhook-id") ?? "", at: Date.now() });
    if (failuresLeft > 0) {
      failuresLeft--;
      return new Response("busy", { status: 503 });
    }
    return new Response(null, { status: 204 });
  },
});
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await receiver.stop(true);
});

/** A dispatcher on a fresh prefix whose claims are counted, and a writer on another connection. */
async function startDispatcher(schedule = [60_000]) {
  const prefix = freshPrefix();
  const keys = redisKeys(prefix);
  const own = await createRedis(TEST_REDIS_URL);
  const queuer = await createRedis(TEST_REDIS_URL);
  let claims = 0;
  const counted: Redis = {
    async send(command, args) {
      const reply = await own.send(command, args);
      if ((command === "EVALSHA" && args[0] === CLAIM_SHA) || (command === "EVAL" && args[0] === CLAIM_DUE)) claims++;
      return reply;
    },
    close: () => own.close(),
  };
  const subscriberName = `webhook-idle-${prefix.slice(5, -1)}`;
  let resubscribedAt: number | null = null;
  const subscriber = await createRedisSubscriber(TEST_REDIS_URL, {
    name: subscriberName,
    reconnectBaseMs: 500,
    onResubscribed: (channels) => {
      resubscribedAt = claims;
      dispatcher.resubscribed(channels);
    },
  });
  const parked: unknown[] = [];
  const dispatcher = createWebhookDispatcher({
    redis: counted,
    subscriber,
    prefix,
    policy: { allowPrivate: true, allowHttp: true, timeoutMs: 5_000 },
    deadLetters: { park: async (letter) => void parked.push(letter) },
    logger: silentLogger,
    schedule,
    maxIdleMs: IDLE_CAP_MS,
  });
  cleanups.push(async () => {
    await dispatcher.stop();
    subscriber.close();
    await deleteKeys(queuer, prefix);
    counted.close();
    queuer.close();
    expect(parked).toEqual([]);
  });
  await dispatcher.start();
  // The first claim (of an empty set) is done: from here it sleeps for the cap unless woken.
  await until(() => claims >= 1);

  const writer = createSnapshotWriter(queuer, prefix);
  /** A generation ended through APPLY_STATUS, queueing its delivery; answers its webhook-id. */
  async function queueDelivery(): Promise<string> {
    const user = "idle-user";
    await queuer.send("HSET", [keys.webhookSecret(await sha256Hex(user)), "current", newWebhookSecret()]);
    const request = RequestEvent.create({
      id: uuidv7(),
      userId: user,
      params: { prompt: "p", style: "noise", width: 256, height: 256, format: "webp", seed: 1 },
      createdAt: new Date().toISOString(),
      attempt: 1,
      webhookUrl: `http://127.0.0.1:${receiver.port}/hook`,
    });
    await writer.applyRequest(request, 0, "1");
    const at = new Date().toISOString();
    const base = { id: request.id, userId: user, at, workerId: "w", attempt: 1 };
    await writer.applyStatus(StatusEvent.create({ ...base, seq: 1, status: "canceled", stage: "done", progress: 100 }));
    return `msg_${request.id}_canceled`;
  }
  return {
    dispatcher,
    /** Another connection, as another process's. */
    redis: queuer,
    subscriberName,
    keys,
    queueDelivery,
    claims: () => claims,
    resubscribedAt: () => resubscribedAt,
  };
}
const arrived = (id: string) => () => received.some((r) => r.id === id);

test(
  "idle with nothing due, it makes no claim; a delivery queued on another connection wakes it at once",
  async () => {
    const d = await startDispatcher();
    await Bun.sleep(1_500);
    expect(d.claims()).toBe(1);
    const id = await d.queueDelivery();
    await until(arrived(id), PROMPTLY_MS);
  },
  2 * PROMPTLY_MS,
);

test(
  "a retry due in 2 s is attempted after 2 s, with no polling in between",
  async () => {
    const retryMs = 2_000;
    const d = await startDispatcher([retryMs]);
    failuresLeft = 1;
    const id = await d.queueDelivery();
    await until(() => received.filter((r) => r.id === id).length === 1, PROMPTLY_MS);
    const claimsAtFirst = d.claims();
    await until(() => received.filter((r) => r.id === id).length === 2, PROMPTLY_MS);
    const [first, second] = received.filter((r) => r.id === id).map((r) => r.at) as [number, number];
    expect(second - first).toBeGreaterThanOrEqual(retryMs - 50);
    // The claim after settling (it learns when the retry is due) and the one that takes it, give or
    // take one for a timer that fired a moment early; a 250 ms poll would have made eight.
    expect(d.claims() - claimsAtFirst).toBeLessThanOrEqual(3);
  },
  2 * PROMPTLY_MS,
);

test(
  "publishes lost while the subscription was down: it claims once back, not at the cap",
  async () => {
    const d = await startDispatcher();
    expect(await killConnectionsNamed(d.redis, d.subscriberName)).toBe(1);
    const id = await d.queueDelivery();
    await until(() => d.resubscribedAt() !== null, PROMPTLY_MS);
    // Nothing woke it while the connection was down...
    expect(d.resubscribedAt()).toBe(1);
    // ...and the resubscribe did, long before the idle cap.
    await until(arrived(id), PROMPTLY_MS);
  },
  2 * PROMPTLY_MS,
);

test("stop() ends the subscription and is safe to call twice", async () => {
  const d = await startDispatcher();
  const subscribers = async () =>
    ((await d.redis.send("PUBSUB", ["NUMSUB", d.keys.webhooksQueued()])) as [string, number])[1];
  expect(await subscribers()).toBe(1);
  await d.dispatcher.stop();
  await d.dispatcher.stop();
  expect(await subscribers()).toBe(0);
});
