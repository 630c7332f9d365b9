import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ROOT } from "../../infrastructure/paths.ts";
import { endOffsetTotal, readMessages } from "../gateway/gateway-fixtures.ts";
import { type OpenAIImagesStandIn, startOpenAIImagesStandIn } from "../testing/openai-images-standin.ts";
import { freePort, type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { STANDIN_API_KEY, workerProcessEnv } from "../testing/worker-process-env.ts";

let p: Pipeline;
let model: OpenAIImagesStandIn;
const children: Subprocess[] = [];
const port = freePort();
const internalPort = freePort();

beforeAll(async () => {
  p = await startPipeline({ workers: 0 });
  // A real model takes seconds: long enough to kill a worker in the middle of a generation.
  model = startOpenAIImagesStandIn({ apiKey: STANDIN_API_KEY, latencyMs: 3000 });
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await model.close();
  await p.stop();
});

/** A real worker process (`bun worker/main.ts`), configured like a container would be. */
async function startWorker(): Promise<Subprocess> {
  const child = Bun.spawn([process.execPath, join(ROOT, "worker/main.ts")], {
    cwd: mkdtempSync(join(tmpdir(), "worker-")),
    env: workerProcessEnv(p, model, { ws: port, internal: internalPort }, { KAFKA_SESSION_TIMEOUT_MS: "6000" }),
    stdout: "inherit",
    stderr: "inherit",
  });
  children.push(child);
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (
      await fetch(`http://127.0.0.1:${internalPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await Bun.sleep(100);
  }
  throw new Error("worker did not become ready");
}

test("metrics, readiness and the synchronous path are on the internal port only", async () => {
  const worker = await startWorker();
  const publicUrl = `http://127.0.0.1:${port}`;
  const internalUrl = `http://127.0.0.1:${internalPort}`;
  expect((await fetch(`${publicUrl}/healthz`)).status).toBe(200);
  for (const path of ["/metrics", "/readyz"]) expect((await fetch(`${publicUrl}${path}`)).status).toBe(404);
  expect((await fetch(`${publicUrl}/internal/generations`, { method: "POST", body: "{}" })).status).toBe(404);
  const metrics = await fetch(`${internalUrl}/metrics`);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toContain("# TYPE pixel_dead_letters_total counter");
  expect((await fetch(`${internalUrl}/readyz`)).status).toBe(200);
  // Still behind a service token, should the internal port ever be reachable.
  expect((await fetch(`${internalUrl}/internal/generations`, { method: "POST", body: "{}" })).status).toBe(401);
  worker.kill("SIGTERM");
  expect(await worker.exited).toBe(0);
}, 60_000);

test("a worker killed with SIGKILL mid-generation: another instance finishes it, one complete event, one image", async () => {
  const first = await startWorker();
  const response = await p.submit("zoe", { prompt: "survives a crash", width: 512, height: 512, format: "webp" });
  const { id } = (await response.json()) as { id: string };
  await p.waitFor("zoe", id, (g) => g.status === "processing");
  first.kill("SIGKILL");
  await first.exited;

  const second = await startWorker();
  const done = await p.waitFor("zoe", id, undefined, 60_000);
  expect(done.status).toBe("completed");
  expect(done.image).toMatchObject({ width: 512, height: 512, format: "webp" });
  expect(model.requests.filter((r) => r.method === "POST")).toHaveLength(2);

  // Exactly one outcome, one stored image (and its thumbnail).
  await Bun.sleep(500);
  expect(await endOffsetTotal(p.kafka, p.topics.complete.name)).toBe(1);
  const [complete] = await readMessages(p.kafka, p.topics.complete.name, 1);
  const event = JSON.parse(complete?.value ?? "{}") as { image: { key: string }; thumbnail: { key: string } };
  expect(event).toMatchObject({ id, attempts: 1 });
  const files = readdirSync(p.imageDir, { recursive: true }).filter((f) => String(f).endsWith(".webp"));
  expect(files.map(String).sort()).toEqual([event.image.key, event.thumbnail.key].sort());

  // SIGTERM: drains, commits, leaves the group and exits 0.
  second.kill("SIGTERM");
  expect(await second.exited).toBe(0);
}, 120_000);
