/**
 * Head-of-line blocking, on the real broker and Redis with two local receivers: one user's
 * endpoint that never answers must not hold up another user's deliveries, and holds no more of
 * the dispatcher than its per-user share. Loopback receivers are allowed as in local development
 * (ALLOW_PRIVATE_WEBHOOKS at both ends).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { redisKeys } from "../../shared/redis-keys.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { until } from "../testing/until.ts";

const PER_USER = 2;
let slowHeld = 0;
let slowMostHeld = 0;
let slowAnswered = 0;
const slowWaiters: (() => void)[] = [];
let slowOpen = false;
const slow = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(request) {
    await request.text();
    slowHeld++;
    slowMostHeld = Math.max(slowMostHeld, slowHeld);
    // Held until the test opens the gate: a receiver that is slow for as long as it likes.
    if (!slowOpen) await new Promise<void>((resolve) => slowWaiters.push(resolve));
    slowHeld--;
    slowAnswered++;
    return new Response(null, { status: 204 });
  },
});
const fastReceived: string[] = [];
const fast = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    fastReceived.push(request.headers.get("webhook-id") ?? "");
    return new Response(null, { status: 204 });
  },
});

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({
    edgeEnv: { ALLOW_PRIVATE_WEBHOOKS: "true" },
    // The attempt deadline is far beyond the test: the slow receiver holds its deliveries throughout.
    webhooks: {
      policy: { allowPrivate: true, allowHttp: true, timeoutMs: 60_000 },
      concurrency: { total: 8, perUser: PER_USER },
    },
  });
});
afterAll(async () => {
  slowOpen = true;
  for (const release of slowWaiters.splice(0)) release();
  await p.stop();
  await slow.stop(true);
  await fast.stop(true);
});

async function finish(user: string, webhookUrl: string): Promise<string> {
  const response = await p.submit(user, { prompt: "hooked", width: 256, height: 256, webhookUrl });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  await p.waitFor(user, id);
  return id;
}

test("a receiver that never answers holds its owner's share only: another user's delivery goes out meanwhile", async () => {
  await p.webhookSecret("sloth");
  await p.webhookSecret("hare");
  const slowUrl = `http://127.0.0.1:${slow.port}/hook`;
  const slowIds = await Promise.all(Array.from({ length: 5 }, () => finish("sloth", slowUrl)));
  // The slow deliveries are in flight (claimed and posted) before the fast user's generation ends.
  await until(() => slowHeld === PER_USER);

  const fastId = await finish("hare", `http://127.0.0.1:${fast.port}/hook`);
  await until(() => fastReceived.includes(`msg_${fastId}_completed`));
  expect(slowAnswered).toBe(0);

  // Once the receiver answers, every slow delivery goes out; waiting for a turn spent no attempt.
  slowOpen = true;
  for (const release of slowWaiters.splice(0)) release();
  await until(() => slowAnswered === slowIds.length);
  await until(async () => Number(await p.redis.send("ZCARD", [redisKeys(p.prefix).webhooksDue()])) === 0);
  // The deferred ones waited their turn instead of piling onto the slow endpoint.
  expect(slowMostHeld).toBe(PER_USER);
}, 60_000);
