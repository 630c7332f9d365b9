/**
 * The operations console in Chromium, against the whole pipeline as real processes: live lag and
 * workers, a failed generation replayed from the console to completion, and a viewer who can
 * look but not replay.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { mintApiToken } from "../../edge/auth.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../../infrastructure/browser/chromium.ts";
import { mintOpsToken, type OpsRole } from "../../shared/auth/ops-token.ts";
import { testKafka } from "../testing/kafka-test-env.ts";
import { type OpenAIImagesStandIn, startOpenAIImagesStandIn } from "../testing/openai-images-standin.ts";
import { type ProcessPipeline, startProcessPipeline } from "../testing/process-pipeline.ts";

let p: ProcessPipeline;
let model: OpenAIImagesStandIn;
let browser: Browser;

beforeAll(async () => {
  model = startOpenAIImagesStandIn({ apiKey: "sk-test-key-123456" });
  p = await startProcessPipeline({
    workers: 1,
    env: {
      // One attempt: a model outage fails the generation at once, so there is something to replay.
      GENERATION_MAX_ATTEMPTS: "1",
      GENERATION_PROVIDER: "openai-compatible",
      OPENAI_BASE_URL: model.url,
      OPENAI_API_KEY: "sk-test-key-123456",
      // The worker is paused (SIGSTOP) for a few seconds below; it must not be thrown out of its group.
      KAFKA_SESSION_TIMEOUT_MS: "30000",
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await p?.stop();
  await model?.close();
});

async function submit(user: string, prompt: string): Promise<string> {
  const response = await fetch(`${p.edgeUrl}/api/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${await mintApiToken(user, p.jwtSecret)}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt, width: 1024, height: 1024, format: "png" }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}
async function statusOf(user: string, id: string): Promise<string> {
  const response = await fetch(`${p.edgeUrl}/api/generations/${id}`, {
    headers: { authorization: `Bearer ${await mintApiToken(user, p.jwtSecret)}` },
  });
  return ((await response.json()) as { status: string }).status;
}
async function waitForStatus(user: string, id: string, status: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await statusOf(user, id)) === status) return;
    await Bun.sleep(100);
  }
  throw new Error(`${id} never became ${status}`);
}
async function signIn(role: OpsRole): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`${p.opsUrl}/ops`);
  expect(new URL(page.url()).pathname).toBe("/ops/login");
  await page.fill("input[name=token]", await mintOpsToken(`${role}-1`, role, p.jwtSecret));
  await page.click("button[type=submit]");
  await page.waitForURL(`${p.opsUrl}/ops`);
  return { page, errors };
}

test("an admin sees topics, the workers group's lag per partition rise and fall live, and the worker", async () => {
  const { page, errors } = await signIn("admin");
  const group = page.locator(`section.group[data-group="${p.kafkaConfig.consumerGroup}"]`);
  await group.waitFor();
  expect(await group.locator("tr[data-partition]").count()).toBe(6);
  // The four topics and the dead-letter topic.
  expect(await page.locator("#topics tr[data-topic]").count()).toBe(5);
  expect(
    await page
      .locator(`#topics tr[data-topic="${p.kafkaConfig.topicPrefix}image.generation.requests"] td`)
      .nth(1)
      .textContent(),
  ).toBe("6");
  const worker = page.locator("#workers tr[data-worker]");
  await worker.first().waitFor();
  expect(await worker.count()).toBe(1);
  expect(await worker.locator("td").nth(2).textContent()).toBe("alive");
  expect(await page.locator("svg[data-chart]").count()).toBe(3);

  // The worker stops reading: a submit becomes lag on the page, without a reload; then it drains.
  const child = p.children.get("worker-1");
  child?.kill("SIGSTOP");
  let id: string;
  try {
    id = await submit("lagging", "waits in the queue");
    await group.locator(".lag-total", { hasText: /^1$/ }).waitFor({ timeout: 20_000 });
  } finally {
    child?.kill("SIGCONT");
  }
  await group.locator(".lag-total", { hasText: /^0$/ }).waitFor({ timeout: 20_000 });
  await waitForStatus("lagging", id, "completed");
  // Its throughput reaches the chart and the worker's row.
  await page.locator("#workers tr[data-worker] td", { hasText: /^1 \/ 0 \/ 0 \/ 0$/ }).waitFor({ timeout: 20_000 });
  await page.locator('svg[data-chart="Throughput"]:not([data-max="0"])').waitFor({ timeout: 20_000 });
  expect(errors).toEqual([]);
  await page.close();
}, 90_000);

test("a failed generation is replayed from the console, after confirmation, and completes", async () => {
  model.failNext(500);
  const id = await submit("unlucky", "fails the first time");
  await waitForStatus("unlucky", id, "failed");

  const { page, errors } = await signIn("admin");
  await page.goto(`${p.opsUrl}/ops/failed?q=unlucky`);
  const row = page.locator(`#failed tr[data-id="${id}"]`);
  expect(await row.locator(".state").textContent()).toBe("failed");
  await row.locator("a", { hasText: "Inspect" }).click();
  expect(await page.locator("#event").textContent()).toContain('"code": "provider_unavailable"');
  await page.goBack();

  // Cancelling the dialog replays nothing.
  await row.locator("button", { hasText: "Replay" }).click();
  await page.locator("#confirm-dialog[open]").waitFor();
  expect(await page.locator("#confirm-text").textContent()).toBe(`Replay generation ${id}?`);
  await page.click("#confirm-dialog button[value=cancel]");
  expect(await statusOf("unlucky", id)).toBe("failed");

  await row.locator("button", { hasText: "Replay" }).click();
  await page.click("#confirm-yes");
  await page.locator("#replay-summary").waitFor();
  expect(await page.locator("#replay-summary").textContent()).toBe("1 replayed, 0 skipped");
  await waitForStatus("unlucky", id, "completed");

  await page.goto(`${p.opsUrl}/ops/generations/${id}`);
  expect(await page.locator("#story-status").textContent()).toBe("completed");
  const topics = await page
    .locator("#story tr[data-topic]")
    .evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { topic: string } }).dataset.topic));
  expect(topics[0]).toBe("requests");
  expect(topics.filter((t) => t === "requests")).toHaveLength(2);
  expect(topics.indexOf("failed")).toBeLessThan(topics.indexOf("complete"));
  expect(await page.locator("#log li").count()).toBeGreaterThan(3);
  expect(errors).toEqual([]);
  await page.close();
}, 90_000);

test("a viewer sees failed generations but no replay, and is refused one (403)", async () => {
  model.failNext(500);
  const id = await submit("viewed", "fails for the viewer");
  await waitForStatus("viewed", id, "failed");

  const { page } = await signIn("viewer");
  expect(await page.locator("#role").textContent()).toBe("viewer");
  await page.goto(`${p.opsUrl}/ops/failed`);
  const row = page.locator(`#failed tr[data-id="${id}"]`);
  expect(await row.locator(".state").textContent()).toBe("failed");
  expect(await page.locator("button", { hasText: "Replay" }).count()).toBe(0);
  await page.close();

  const replay = (token: string, origin = p.opsUrl) =>
    fetch(`${p.opsUrl}/ops/replay`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, origin, "content-type": "application/x-www-form-urlencoded" },
      body: `id=${id}&confirm=yes`,
    });
  expect((await replay(await mintOpsToken("vera", "viewer", p.jwtSecret))).status).toBe(403);
  expect((await replay(await mintApiToken("vera", p.jwtSecret))).status).toBe(401);
  // Another site cannot make an admin's browser replay (CSRF).
  expect((await replay(await mintOpsToken("ops", "admin", p.jwtSecret), "http://evil.example")).status).toBe(403);
  expect(await statusOf("viewed", id)).toBe("failed");
});

test("a poisoned request is listed as a dead letter by each consumer that parked it; Inspect shows the original", async () => {
  const producer = testKafka(p.kafkaConfig).producer();
  await producer.connect();
  await producer.send({
    topic: `${p.kafkaConfig.topicPrefix}image.generation.requests`,
    messages: [{ key: "poison-key", value: '{"v":1,"id":"not a generation"}' }],
  });
  await producer.disconnect();

  const { page, errors } = await signIn("admin");
  // Parked by the workers and by the relay (both read the request topic).
  const rows = page.locator("#failed tr[data-id]", { hasText: "dead-letter" });
  for (let i = 0; i < 100; i++) {
    await page.goto(`${p.opsUrl}/ops/failed`);
    if ((await rows.count()) >= 2) break;
    await Bun.sleep(200);
  }
  expect(await rows.count()).toBe(2);
  const text = await rows.allTextContents();
  expect(text.some((t) => t.includes(p.kafkaConfig.consumerGroup))).toBe(true);
  expect(text.some((t) => t.includes(p.kafkaConfig.relayGroup))).toBe(true);
  expect(await rows.first().locator("button", { hasText: "Replay" }).count()).toBe(0);
  await rows.first().locator("a", { hasText: "Inspect" }).click();
  expect(await page.locator("#original").textContent()).toBe('{"v":1,"id":"not a generation"}');
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);

test("every console response carries the strict CSP; the script is a file, never inline", async () => {
  const response = await fetch(`${p.opsUrl}/ops/login`);
  const csp = response.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain("unsafe-inline");
  const html = await response.text();
  expect(html).toContain('<script type="module" src="/ops/assets/ops-client.js">');
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
});
