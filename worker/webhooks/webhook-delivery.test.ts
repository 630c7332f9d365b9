/**
 * Webhooks through the whole pipeline on the real broker and Redis: per-user secrets made and
 * rotated through the API, signatures checked by the Standard Webhooks reference library, and
 * the dispatcher's delivery-time refusal of private destinations (the edge here lets them
 * through, as with ALLOW_PRIVATE_WEBHOOKS, so the dispatcher's own check is what is tested).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import edgeDocument from "../../docs/openapi.json";
import { sha256Hex } from "../../shared/digest.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { until } from "../testing/until.ts";

interface Received {
  headers: Record<string, string>;
  body: string;
}

const received: Received[] = [];
let failuresLeft = 0;
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const body = await request.text();
    received.push({ headers: Object.fromEntries(request.headers), body });
    if (failuresLeft > 0) {
      failuresLeft--;
      return new Response("busy", { status: 503 });
    }
    return new Response(null, { status: 204 });
  },
});
const hookUrl = `http://127.0.0.1:${receiver.port}/hooks/pixel`;

/** The delivery headers as docs/openapi.json documents them: each is present and matches its pattern. */
const documentedHeaders = edgeDocument.webhooks.generationEnded.post.parameters as {
  name: string;
  schema: { pattern: string };
}[];
const undocumentedHeaders = (headers: Record<string, string>) =>
  documentedHeaders.flatMap(({ name, schema }) =>
    new RegExp(schema.pattern).test(headers[name] ?? "") ? [] : [`${name}: ${headers[name]}`],
  );

let open: Pipeline;
let guarded: Pipeline;
beforeAll(async () => {
  // Local development: private destinations allowed at both ends.
  open = await startPipeline({
    edgeEnv: { ALLOW_PRIVATE_WEBHOOKS: "true" },
    webhooks: { policy: { allowPrivate: true, allowHttp: true } },
  });
  // Production rules at delivery; the stand-in resolver answers a loopback address for a public-looking name.
  guarded = await startPipeline({
    edgeEnv: { ALLOW_PRIVATE_WEBHOOKS: "true" },
    webhooks: {
      policy: { allowPrivate: false, allowHttp: false },
      resolve: async () => [{ address: "127.0.0.1", family: 4 }],
    },
  });
});
afterAll(async () => {
  await open.stop();
  await guarded.stop();
  await receiver.stop(true);
});

const settled = (p: Pipeline) => async () =>
  Number(await p.redis.send("ZCARD", [redisKeys(p.prefix).webhooksDue()])) === 0;

async function finish(p: Pipeline, user: string, webhookUrl: string) {
  const response = await p.submit(user, { prompt: "hooked", width: 256, height: 256, webhookUrl });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  await p.waitFor(user, id);
  return id;
}

test("the secret is created through the API in whsec_ form, shown once, and is per user", async () => {
  const response = await open.api("/api/webhook-secret", { method: "POST", user: "wes" });
  expect(response.status).toBe(201);
  expect(response.headers.get("cache-control")).toBe("no-store");
  const body = (await response.json()) as { secret: string; createdAt: string; previousValidUntil: string | null };
  expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  expect(body.previousValidUntil).toBeNull();
  expect(await open.webhookSecret("ann")).not.toBe(body.secret);
});

test("a submit with a webhookUrl needs the user's secret first", async () => {
  const response = await open.submit("nobody-yet", { prompt: "p", webhookUrl: hookUrl });
  expect(response.status).toBe(400);
  const { error } = (await response.json()) as { error: { code: string; details: { path: string }[] } };
  expect(error.code).toBe("invalid_request");
  expect(error.details.map((d) => d.path)).toEqual(["webhookUrl"]);
});

test("delivered once after retries, same webhook-id each attempt, verified by the standardwebhooks library with the owner's secret only", async () => {
  received.length = 0;
  failuresLeft = 2;
  const secret = await open.webhookSecret("kim");
  const otherSecret = await open.webhookSecret("lee");
  const id = await finish(open, "kim", hookUrl);
  await until(() => received.length === 3);
  await until(settled(open));
  expect(failuresLeft).toBe(0);
  expect(new Set(received.map((r) => r.headers["webhook-id"])).size).toBe(1);
  expect(received[0]?.headers["webhook-id"]).toBe(`msg_${id}_completed`);
  expect(received.flatMap((r) => undocumentedHeaders(r.headers))).toEqual([]);

  const delivery = received.at(-1) as Received;
  const body = new Webhook(secret).verify(delivery.body, delivery.headers) as GenerationSnapshot &
    Record<string, unknown>;
  expect(body).toMatchObject({ id, status: "completed", image: { width: 256, height: 256, format: "webp" } });
  expect(body.webhookUrl).toBeUndefined();
  expect(body.userId).toBeUndefined();
  expect(() => new Webhook(otherSecret).verify(delivery.body, delivery.headers)).toThrow(/No matching signature/);
  // Tampering with the body breaks the signature.
  expect(() => new Webhook(secret).verify(delivery.body.replace("completed", "failed"), delivery.headers)).toThrow();
});

test("after a rotation deliveries verify with the new secret and, during the grace period, the previous one", async () => {
  received.length = 0;
  const before = await open.webhookSecret("rho");
  const rotated = await open.api("/api/webhook-secret", { method: "POST", user: "rho" });
  const after = (await rotated.json()) as { secret: string; previousValidUntil: string };
  expect(after.secret).not.toBe(before);
  expect(Date.parse(after.previousValidUntil)).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
  await finish(open, "rho", hookUrl);
  await until(() => received.length === 1);
  const [delivery] = received as [Received];
  expect(delivery.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
  expect(undocumentedHeaders(delivery.headers)).toEqual([]);
  for (const secret of [after.secret, before])
    expect(new Webhook(secret).verify(delivery.body, delivery.headers)).toBeTruthy();
});

test("revokePrevious: a leaked secret stops signing at once; deliveries verify with the new secret only", async () => {
  received.length = 0;
  const older = await open.webhookSecret("leak");
  // A plain rotation: `older` signs on during its grace beside the (then leaked) new one.
  const leaked = await open.webhookSecret("leak");
  const rotated = await open.api("/api/webhook-secret", {
    method: "POST",
    user: "leak",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ revokePrevious: true }),
  });
  expect(rotated.status).toBe(201);
  const after = (await rotated.json()) as { secret: string; previousValidUntil: string | null };
  expect(after.previousValidUntil).toBeNull();
  await finish(open, "leak", hookUrl);
  await until(() => received.length === 1);
  const [delivery] = received as [Received];
  expect(delivery.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
  expect(new Webhook(after.secret).verify(delivery.body, delivery.headers)).toBeTruthy();
  for (const revoked of [leaked, older])
    expect(() => new Webhook(revoked).verify(delivery.body, delivery.headers)).toThrow(/No matching signature/);
  // A body that does not say what it means is refused and rotates nothing.
  const stored = async () =>
    open.redis.send("HGETALL", [redisKeys(open.prefix).webhookSecret(await sha256Hex("leak"))]);
  const before = await stored();
  for (const body of [JSON.stringify({ revokePrevious: "yes" }), "revokePrevious=true", "{"]) {
    const invalid = await open.api("/api/webhook-secret", {
      method: "POST",
      user: "leak",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
  }
  expect(await stored()).toEqual(before);
});

test("delivery-time check: a loopback URL and a name resolving to loopback are never connected to", async () => {
  received.length = 0;
  await guarded.webhookSecret("eve");
  await finish(guarded, "eve", hookUrl);
  await finish(guarded, "eve", `https://hooks.example.com/x`);
  await until(settled(guarded));
  const attempts = await guarded.redis.send("HLEN", [redisKeys(guarded.prefix).webhookAttempts()]);
  expect(Number(attempts)).toBe(0);
  expect(received).toEqual([]);
});
