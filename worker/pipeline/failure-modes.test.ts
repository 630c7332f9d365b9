import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { GENERATION_ERROR_MESSAGES } from "../../shared/job-states.ts";
import { roundRobinTopics } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { endOffsetTotal, readMessages } from "../gateway/gateway-fixtures.ts";
import { replayFailed } from "../relay/replay-failed.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { type Step, scriptedProvider } from "../testing/scripted-provider.ts";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

const start = async (script: Step[], options: Parameters<typeof startPipeline>[0] = {}) => {
  const provider = scriptedProvider(script);
  p = await startPipeline({ provider, ...options });
  return { p, provider };
};
const submit = async (pipeline: Pipeline, user = "u1") => {
  const r = await pipeline.submit(user, { prompt: "scripted", width: 256, height: 256 });
  expect(r.status).toBe(202);
  return ((await r.json()) as { id: string }).id;
};
/** `kafka:replay-failed` against the pipeline, placing records as the console and CLI do. */
async function replayer(pipeline: Pipeline) {
  const producer = createBatchingProducer({
    kafka: pipeline.kafka,
    logger: silentLogger,
    roundRobinTopics: roundRobinTopics(pipeline.topics),
  });
  await producer.start();
  return {
    replay: () =>
      replayFailed({
        kafka: pipeline.kafka,
        producer,
        redis: pipeline.redis,
        prefix: pipeline.prefix,
        topics: { failed: pipeline.topics.failed.name, requests: pipeline.topics.requests.name },
      }),
    close: () => producer.close(),
  };
}
const storedImages = (dir: string) => readdirSync(dir, { recursive: true }).filter((f) => String(f).includes("."));

describe("timeouts, retries and failures", () => {
  test("a generation running past GENERATION_TIMEOUT_MS fails with code timeout", async () => {
    const { p } = await start([{ kind: "hang" }], { timeoutMs: 300 });
    const id = await submit(p);
    const done = await p.waitFor("u1", id);
    expect(done.status).toBe("failed");
    expect(done.error).toEqual({ code: "timeout", message: GENERATION_ERROR_MESSAGES.timeout, retryable: false });
    const [failed] = await readMessages(p.kafka, p.topics.failed.name, 1);
    expect(JSON.parse(failed?.value ?? "{}")).toMatchObject({ id, error: { code: "timeout" }, request: { id } });
  });

  test("transient errors are retried with backoff and then succeed", async () => {
    const { p, provider } = await start([{ kind: "transient" }, { kind: "transient" }, { kind: "ok" }], {
      maxAttempts: 3,
    });
    const id = await submit(p);
    const done = await p.waitFor("u1", id);
    expect(done.status).toBe("completed");
    expect(done.attempts).toBe(3);
    expect(provider.calls).toBe(3);
    expect(await endOffsetTotal(p.kafka, p.topics.complete.name)).toBe(1);
  });

  test("transient errors past the attempt limit fail, marked retryable", async () => {
    const { p, provider } = await start([{ kind: "transient" }, { kind: "transient" }], { maxAttempts: 2 });
    const done = await p.waitFor("u1", await submit(p));
    expect(done.status).toBe("failed");
    expect(done.error).toMatchObject({ code: "provider_unavailable", retryable: true });
    expect(done.attempts).toBe(2);
    expect(provider.calls).toBe(2);
  });

  test("a permanent error fails at once, without retries", async () => {
    const { p, provider } = await start([{ kind: "permanent" }], { maxAttempts: 5 });
    const done = await p.waitFor("u1", await submit(p));
    expect(done).toMatchObject({ status: "failed", attempts: 1, error: { code: "content_policy", retryable: false } });
    expect(provider.calls).toBe(1);
    expect(await endOffsetTotal(p.kafka, p.topics.failed.name)).toBe(1);
    expect(await endOffsetTotal(p.kafka, p.topics.complete.name)).toBe(0);
  });
});

describe("replay of failed requests", () => {
  test("a failed generation is replayed under its own id and completes; replaying again does nothing", async () => {
    const { p, provider } = await start([{ kind: "permanent" }]);
    const id = await submit(p);
    expect((await p.waitFor("u1", id)).status).toBe("failed");
    const { replay, close } = await replayer(p);
    try {
      expect(await replay()).toEqual({ replayed: [id], skipped: [] });
      const done = await p.waitFor("u1", id, (g) => g.status === "completed");
      expect(done.error).toBeUndefined();
      expect(provider.calls).toBe(2);
      expect(await replay()).toEqual({ replayed: [], skipped: [{ id, reason: "not failed any more" }] });
    } finally {
      await close();
    }
  });

  test("each replay's record carries a higher attempt than the last, so the floor shuts out every earlier one", async () => {
    const { p, provider } = await start([{ kind: "permanent" }, { kind: "permanent" }]);
    const id = await submit(p);
    expect((await p.waitFor("u1", id)).status).toBe("failed");
    const { replay, close } = await replayer(p);
    try {
      expect(await replay()).toEqual({ replayed: [id], skipped: [] });
      await p.waitFor("u1", id, (g) => g.status === "failed");
      expect(await replay()).toEqual({ replayed: [id], skipped: [] });
      expect((await p.waitFor("u1", id, (g) => g.status === "completed")).error).toBeUndefined();
      expect(provider.calls).toBe(3);
      const attempts = (await readMessages(p.kafka, p.topics.requests.name, 3)).map(
        (m) => (JSON.parse(m.value) as { attempt: number }).attempt,
      );
      expect(attempts.toSorted()).toEqual([1, 2, 3]);
    } finally {
      await close();
    }
  });
});

describe("cancel", () => {
  test("while processing: ends canceled between stages and stores no image", async () => {
    const { p, provider } = await start([{ kind: "gate" }]);
    const id = await submit(p);
    await p.waitFor("u1", id, (g) => g.status === "processing" && g.stage === "rendering");
    const cancel = await p.api(`/api/generations/${id}/cancel`, { method: "POST", user: "u1" });
    expect(cancel.status).toBe(202);
    expect(((await cancel.json()) as { id: string }).id).toBe(id);
    provider.release();
    const done = await p.waitFor("u1", id);
    expect(done.status).toBe("canceled");
    expect(done.image).toBeUndefined();
    expect(storedImages(p.imageDir)).toEqual([]);
    expect(await endOffsetTotal(p.kafka, p.topics.complete.name)).toBe(0);
  });

  test("while queued: never starts, ends canceled", async () => {
    const { p, provider } = await start([{ kind: "gate" }, { kind: "ok" }], { maxConcurrent: 1 });
    const first = await submit(p);
    await p.waitFor("u1", first, (g) => g.status === "processing");
    const second = await submit(p);
    const queued = await p.waitFor("u1", second, (g) => g.status === "queued" && g.queuePosition !== undefined);
    expect(queued.queuePosition).toBe(0);
    expect((await p.api(`/api/generations/${second}/cancel`, { method: "POST", user: "u1" })).status).toBe(202);
    provider.release();
    expect((await p.waitFor("u1", first)).status).toBe("completed");
    const done = await p.waitFor("u1", second);
    expect(done.status).toBe("canceled");
    expect(done.startedAt).toBeUndefined();
    expect(provider.calls).toBe(1);
  });
});

describe("ENABLE_KAFKA_IMAGE_GENERATION=false", () => {
  test("the edge serves the old synchronous path and writes nothing to Kafka", async () => {
    const { p } = await start([], { edgeEnv: { ENABLE_KAFKA_IMAGE_GENERATION: "false" } });
    const response = await p.submit("u1", { prompt: "sync please", width: 256, height: 320, format: "jpeg" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      image: { url: string; width: number; height: number; format: string };
    };
    expect(body.status).toBe("completed");
    expect(body.image).toMatchObject({ width: 256, height: 320, format: "jpeg" });
    expect((await fetch(body.image.url)).headers.get("content-type")).toBe("image/jpeg");
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(0);
  });
});

describe("rate limit", () => {
  test("past RATE_LIMIT_PER_MINUTE a user gets 429 with Retry-After, and nothing is produced", async () => {
    const { p } = await start([], { edgeEnv: { RATE_LIMIT_PER_MINUTE: "2" } });
    expect((await p.submit("u1", { prompt: "one", width: 256, height: 256 })).status).toBe(202);
    expect((await p.submit("u1", { prompt: "two", width: 256, height: 256 })).status).toBe(202);
    const limited = await p.submit("u1", { prompt: "three", width: 256, height: 256 });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(2);
    // Limits are per user.
    expect((await p.submit("u2", { prompt: "other user", width: 256, height: 256 })).status).toBe(202);
  });
});
