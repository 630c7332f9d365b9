import { afterEach, describe, expect, test } from "bun:test";
import { endOffsetTotal } from "../gateway/gateway-fixtures.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

/** One worker, one slot, held by a first generation at a gate: everything submitted after it waits. */
async function blocked(options: { priorityAging?: number } = {}) {
  const provider = scriptedProvider([{ kind: "gate" }]);
  const pipeline = await startPipeline({ provider, maxConcurrent: 1, lookahead: 32, ...options });
  p = pipeline;
  const blocker = await submit(pipeline, { prompt: "blocker" });
  await pipeline.waitFor("u1", blocker, (g) => g.status === "processing");
  return { p: pipeline, provider, blocker };
}

async function submit(pipeline: Pipeline, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await pipeline.submit("u1", { width: 256, height: 256, ...body }, headers);
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

/** Waits until the worker has read `count` requests it has not started. */
async function buffered(pipeline: Pipeline, count: number) {
  const worker = pipeline.workers[0];
  const until = Date.now() + 30_000;
  while ((worker?.buffered ?? 0) < count) {
    if (Date.now() > until) throw new Error(`only ${worker?.buffered} requests buffered`);
    await Bun.sleep(20);
  }
}

describe("priority", () => {
  test("under a backlog, workers start high before normal before low, each in submission order", async () => {
    const { p, provider } = await blocked();
    const order = ["low-1", "normal-1", "high-1", "low-2", "high-2", "normal-2"];
    const ids = [];
    for (const name of order) ids.push(await submit(p, { prompt: name, priority: name.split("-")[0] }));
    await buffered(p, order.length);
    provider.release();
    for (const id of ids) expect((await p.waitFor("u1", id)).status).toBe("completed");
    expect(provider.prompts).toEqual(["blocker", "high-1", "high-2", "normal-1", "normal-2", "low-1", "low-2"]);
  });

  test("low is not starved: after GENERATION_PRIORITY_AGING overtakes per level it starts before later high ones", async () => {
    const { p, provider } = await blocked({ priorityAging: 2 });
    const low = await submit(p, { prompt: "low", priority: "low" });
    const highs = [];
    for (let i = 1; i <= 6; i++) highs.push(await submit(p, { prompt: `high-${i}`, priority: "high" }));
    await buffered(p, 7);
    provider.release();
    for (const id of [low, ...highs]) expect((await p.waitFor("u1", id)).status).toBe("completed");
    expect(provider.prompts).toEqual(["blocker", "high-1", "high-2", "high-3", "high-4", "low", "high-5", "high-6"]);
  });

  test("the snapshot shows the priority, and a bad one is refused", async () => {
    const { p, provider } = await blocked();
    const id = await submit(p, { prompt: "urgent", priority: "high" });
    expect(await p.waitFor("u1", id, (g) => g.status === "queued")).toMatchObject({ priority: "high" });
    const bad = await p.submit("u1", { prompt: "p", priority: "urgent" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path).toBe("priority");
    provider.release();
  });
});

describe("start deadline (Cancel-After)", () => {
  test("a generation not started by its deadline ends expired then, even with every slot busy, and never runs", async () => {
    const { p, provider, blocker } = await blocked();
    const late = await submit(p, { prompt: "too late" }, { "cancel-after": "1s" });
    const inTime = await submit(p, { prompt: "in time", cancelAfter: "1h" });
    const queued = await p.waitFor("u1", late, (g) => g.status === "queued");
    expect(Date.parse(queued.startDeadline ?? "")).toBeGreaterThan(Date.parse(queued.createdAt));

    // The only slot is still held by the blocker: expiring needs none.
    const expired = await p.waitFor("u1", late);
    expect((await p.waitFor("u1", blocker, () => true)).status).toBe("processing");
    provider.release();
    expect(expired).toMatchObject({ status: "expired", stage: "done", startDeadline: queued.startDeadline });
    expect(expired.startedAt).toBeUndefined();
    expect(expired.image).toBeUndefined();
    expect((await p.waitFor("u1", inTime)).status).toBe("completed");
    expect((await p.waitFor("u1", blocker)).status).toBe("completed");
    expect(provider.prompts).toEqual(["blocker", "in time"]);
    expect(await endOffsetTotal(p.kafka, p.topics.complete.name)).toBe(2);
    expect(await endOffsetTotal(p.kafka, p.topics.failed.name)).toBe(0);

    const logs = (await (await p.api(`/api/generations/${late}/logs`, { user: "u1" })).json()) as {
      entries: { level: string; message: string }[];
    };
    expect(logs.entries).toEqual([
      expect.objectContaining({ level: "warn", message: expect.stringContaining("expired") }),
    ]);
    // The history keeps expired generations like every other ending.
    const until = Date.now() + 15_000;
    while (!(await p.history.get(late)) && Date.now() < until) await Bun.sleep(50);
    expect(await p.history.get(late)).toMatchObject({ status: "expired" });
  });

  test("a malformed or out-of-range deadline is refused with 400 and nothing is queued", async () => {
    p = await startPipeline({ workers: 0 });
    const cases: [Record<string, unknown>, Record<string, string>, string][] = [
      [{}, { "cancel-after": "0s" }, "Cancel-After"],
      [{}, { "cancel-after": "25h" }, "Cancel-After"],
      [{}, { "cancel-after": "soon" }, "Cancel-After"],
      [{ cancelAfter: "-5" }, {}, "cancelAfter"],
      [{ cancelAfter: "5m" }, { "cancel-after": "5m" }, "Cancel-After"],
    ];
    for (const [body, headers, path] of cases) {
      const response = await p.submit("u1", { prompt: "p", ...body }, headers);
      expect(response.status).toBe(400);
      const error = ((await response.json()) as { error: { details: { path: string }[] } }).error;
      expect(error.details[0]?.path).toBe(path);
    }
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(0);
  });
});
