import { afterAll, beforeAll, expect, test } from "bun:test";
import { ApiError } from "../../edge/api-error.ts";
import { validateSubmit } from "../../edge/submit-body.ts";
import { verifyWebhook } from "../../shared/auth/webhook-signature.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";

interface Received {
  headers: { id: string | null; timestamp: string | null; signature: string | null };
  body: string;
}

let p: Pipeline;
const received: Received[] = [];
let failuresLeft = 0;
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const body = await request.text();
    if (failuresLeft > 0) {
      failuresLeft--;
      return new Response("busy", { status: 503 });
    }
    received.push({
      headers: {
        id: request.headers.get("webhook-id"),
        timestamp: request.headers.get("webhook-timestamp"),
        signature: request.headers.get("webhook-signature"),
      },
      body,
    });
    return new Response(null, { status: 204 });
  },
});

beforeAll(async () => {
  p = await startPipeline({ edgeEnv: { ALLOW_PRIVATE_WEBHOOKS: "true" } });
});
afterAll(async () => {
  await p.stop();
  await receiver.stop(true);
});

const until = async (check: () => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(20);
  }
};

test("a finished generation is POSTed once to its webhookUrl, signed, after retries of failed attempts", async () => {
  failuresLeft = 2;
  const url = `http://127.0.0.1:${receiver.port}/hooks/pixel`;
  const response = await p.submit("wes", { prompt: "hooked", width: 256, height: 256, webhookUrl: url });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  await p.waitFor("wes", id);
  await until(() => received.length === 1);
  await Bun.sleep(400);
  expect(received).toHaveLength(1);
  expect(failuresLeft).toBe(0);

  const [delivery] = received;
  if (!delivery) throw new Error("no delivery");
  expect(await verifyWebhook(p.webhookSecret, delivery.headers, delivery.body)).toBe(true);
  expect(await verifyWebhook("another-secret-another-secret-xx", delivery.headers, delivery.body)).toBe(false);
  const body = JSON.parse(delivery.body) as GenerationSnapshot & Record<string, unknown>;
  expect(body).toMatchObject({ id, status: "completed", image: { width: 256, height: 256, format: "webp" } });
  expect(body.webhookUrl).toBeUndefined();
  expect(body.userId).toBeUndefined();
});

test("webhookUrl must be https to a public host unless local webhooks are allowed", () => {
  const rejected = (webhookUrl: string, allowPrivate: boolean) => {
    try {
      validateSubmit({ prompt: "p", webhookUrl }, allowPrivate);
      return false;
    } catch (error) {
      return error instanceof ApiError && error.code === "invalid_request";
    }
  };
  for (const url of [
    "http://127.0.0.1:9/x",
    "https://10.0.0.1/x",
    "https://localhost/x",
    "https://[::1]/x",
    "ftp://example.com/x",
  ])
    expect(rejected(url, false)).toBe(true);
  expect(rejected("https://hooks.example.com/x", false)).toBe(false);
  expect(rejected("http://127.0.0.1:9/x", true)).toBe(false);
  expect(rejected("ftp://127.0.0.1/x", true)).toBe(true);
});
