/**
 * Every process of the pipeline, as `npm start` runs it, exports its series on its own metrics
 * listener: scraped before, during and after one generation (with a webhook and a live
 * WebSocket), the named series move in every process.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mintApiToken } from "../../edge/auth.ts";
import { type OpenAIImagesStandIn, startOpenAIImagesStandIn } from "../testing/openai-images-standin.ts";
import { type ProcessPipeline, startProcessPipeline } from "../testing/process-pipeline.ts";

let p: ProcessPipeline;
let model: OpenAIImagesStandIn;
let hook: ReturnType<typeof Bun.serve>;
const webhooks: string[] = [];

beforeAll(async () => {
  // A model that takes a moment, so a scrape can catch the generation in flight.
  model = startOpenAIImagesStandIn({ apiKey: "sk-test-key-123456", latencyMs: 1500 });
  hook = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      webhooks.push(await request.text());
      return new Response(null, { status: 204 });
    },
  });
  p = await startProcessPipeline({
    workers: 2,
    env: {
      ALLOW_PRIVATE_WEBHOOKS: "true",
      GENERATION_PROVIDER: "openai-compatible",
      OPENAI_BASE_URL: model.url,
      OPENAI_API_KEY: "sk-test-key-123456",
    },
  });
}, 120_000);
afterAll(async () => {
  await p?.stop();
  hook?.stop(true);
  await model?.close();
});

type Samples = Map<string, number>;
/** Prometheus text → series (name plus labels, as written) → value. */
function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}
/** Sum of a series over every label set that includes `labels`. */
function total(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, value] of samples) {
    const [base] = series.split("{");
    if (base !== name) continue;
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}
async function scrapeAll(): Promise<Record<string, Samples>> {
  const out: Record<string, Samples> = {};
  for (const [name, url] of p.metricsUrls) out[name] = parse(await (await fetch(url)).text());
  return out;
}
const workers = (all: Record<string, Samples>, name: string, labels: Record<string, string> = {}) =>
  Object.entries(all)
    .filter(([process]) => process.startsWith("worker-"))
    .reduce((sum, [, samples]) => sum + total(samples, name, labels), 0);

test("a generation moves the named series of every process, each scraped on its own listener", async () => {
  expect([...p.metricsUrls.keys()].sort()).toEqual(
    [
      "edge",
      "history-writer",
      "kafka-rest-gateway",
      "ops-console",
      "redis-rest-bridge",
      "status-relay",
      "worker-1",
      "worker-2",
    ].sort(),
  );
  // Each worker on its own address, though both serve WS_PORT.
  expect(new Set(p.metricsUrls.values()).size).toBe(p.metricsUrls.size);
  for (const url of p.metricsUrls.values()) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

  const token = await mintApiToken("metrics-user", p.jwtSecret);
  // A webhookUrl needs the user's signing secret first.
  const secret = await fetch(`${p.edgeUrl}/api/webhook-secret`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  expect(secret.status).toBe(201);
  const before = await scrapeAll();
  const response = await fetch(`${p.edgeUrl}/api/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      prompt: "a metered lighthouse",
      width: 1024,
      height: 1024,
      format: "png",
      webhookUrl: `http://127.0.0.1:${hook.port}/hook`,
    }),
  });
  expect(response.status).toBe(202);
  const { id, links } = (await response.json()) as { id: string; links: { events: string } };
  const messages: { type: string }[] = [];
  const socket = new WebSocket(links.events);
  const ended = new Promise<void>((resolve) => {
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as { type: string };
      messages.push(message);
      if (message.type === "completed" || message.type === "failed") resolve();
    };
  });

  // During: the model is still drawing; one worker reports it in flight, and the socket open.
  let during: Record<string, Samples> = {};
  const inFlight = () =>
    workers(during, "pixel_generations_in_flight") === 1 &&
    workers(during, "pixel_ws_sockets", { transport: "ws" }) === 1;
  for (let i = 0; i < 100 && !inFlight(); i++) {
    await Bun.sleep(50);
    during = await scrapeAll();
  }
  expect(workers(during, "pixel_generations_in_flight")).toBe(1);
  expect(workers(during, "pixel_ws_sockets", { transport: "ws" })).toBe(1);

  await ended;
  socket.close();
  expect(messages.at(-1)?.type).toBe("completed");
  // After: wait for the slower consumers (the relay and the history, whose fetches wait up to a
  // second to fill; the webhook; the console's Kafka refresh).
  let after: Record<string, Samples> = {};
  const relayRead = (topic: string) =>
    total(after["status-relay"] ?? new Map(), "pixel_relay_events_total", { topic }) -
    total(before["status-relay"] ?? new Map(), "pixel_relay_events_total", { topic });
  const settled = () =>
    relayRead("requests") >= 1 &&
    relayRead("status") > 2 &&
    total(after["history-writer"] ?? new Map(), "pixel_history_events_total", { result: "inserted" }) >= 1 &&
    total(after["status-relay"] ?? new Map(), "pixel_webhook_attempts_total", { outcome: "delivered" }) >= 1 &&
    total(after["ops-console"] ?? new Map(), "pixel_kafka_topic_end_offset", { kind: "complete" }) >= 1;
  for (let i = 0; i < 200 && !settled(); i++) {
    await Bun.sleep(100);
    after = await scrapeAll();
  }
  const moved = (process: string, name: string, labels: Record<string, string> = {}) =>
    total(after[process] ?? new Map(), name, labels) - total(before[process] ?? new Map(), name, labels);

  expect(moved("edge", "pixel_http_requests_total", { route: "/api/generations", method: "POST", code: "202" })).toBe(
    1,
  );
  expect(moved("edge", "pixel_http_request_seconds_count", { route: "/api/generations" })).toBe(1);
  expect(moved("kafka-rest-gateway", "pixel_http_requests_total", { code: "200" })).toBeGreaterThanOrEqual(1);
  expect(moved("kafka-rest-gateway", "pixel_kafka_produce_batches_total", { outcome: "ok" })).toBeGreaterThanOrEqual(1);
  expect(moved("kafka-rest-gateway", "pixel_kafka_produce_batch_records_sum")).toBeGreaterThanOrEqual(1);
  expect(moved("redis-rest-bridge", "pixel_http_requests_total")).toBeGreaterThanOrEqual(1);
  expect(moved("status-relay", "pixel_relay_events_total", { topic: "requests", result: "applied" })).toBe(1);
  // Workers apply their status events live themselves, so the relay's apply of each is
  // usually a no-op ("stale"); it still reads every one.
  expect(
    moved("status-relay", "pixel_relay_events_total", { topic: "status", result: "applied" }) +
      moved("status-relay", "pixel_relay_events_total", { topic: "status", result: "stale" }),
  ).toBeGreaterThan(2);
  expect(moved("status-relay", "pixel_relay_lua_seconds_count", { script: "apply_status" })).toBeGreaterThan(2);
  expect(moved("status-relay", "pixel_webhook_attempts_total", { outcome: "delivered" })).toBe(1);
  expect(moved("history-writer", "pixel_history_events_total", { result: "inserted" })).toBe(1);
  expect(moved("history-writer", "pixel_history_write_seconds_count")).toBe(1);
  expect(workers(after, "pixel_generation_outcomes_total", { outcome: "completed" })).toBe(1);
  expect(workers(after, "pixel_generation_queue_seconds_count")).toBe(1);
  expect(workers(after, "pixel_generation_seconds_count")).toBe(1);
  expect(workers(after, "pixel_kafka_produce_batches_total", { outcome: "ok" })).toBeGreaterThan(2);
  expect(workers(after, "pixel_ws_messages_total", { transport: "ws" })).toBe(messages.length);
  expect(workers(after, "pixel_ws_sockets", { transport: "ws" })).toBe(0);
  expect(moved("ops-console", "pixel_kafka_topic_end_offset", { kind: "requests" })).toBe(1);
  expect(total(after["ops-console"] ?? new Map(), "pixel_kafka_group_members", { role: "workers" })).toBe(2);
  for (const samples of Object.values(after))
    expect(total(samples, "pixel_process_resident_memory_bytes")).toBeGreaterThan(0);
  expect(webhooks.map((w) => (JSON.parse(w) as { id: string }).id)).toEqual([id]);
}, 120_000);
