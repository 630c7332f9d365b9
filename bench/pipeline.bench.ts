/**
 * `npx bun bench/pipeline.bench.ts`: the pipeline end to end on this machine's real broker and
 * Redis (fresh topics and keys, deleted at the end; loopback only), under a minute.
 *
 * 1. Submit: edge → Kafka REST gateway → Kafka, from a client in a child process. Open loop at
 *    200 req/s for 10 s (latency from each request's scheduled send time), then a closed loop
 *    at 64 callers for the most accepted per second. No workers run here: they are separate
 *    containers in production and would otherwise take the two cores the edge is measured on.
 * 2. Queue latency with idle workers: small generations submitted 40 ms apart; from the request
 *    record's Kafka timestamp to the worker's first `processing` status `at`.
 * 3. Overhead: the procedural provider's own time for a 1024×1024 webp (called in-process),
 *    against the worker's time for the same generations from pick-up to outcome recorded.
 */
import { createProceduralProvider } from "../worker/generation/procedural-provider.ts";
import type { GenerationProvider } from "../worker/generation/provider.ts";
import { type Pipeline, startPipeline } from "../worker/testing/pipeline-harness.ts";
import { type EdgeLoadPlan, runEdgeLoad } from "./edge-load.ts";
import { type Observed, observePipeline } from "./pipeline-observer.ts";
import { epochClock, fmt, median, type Summary, summarize } from "./stats.ts";

const GOALS = { submitP99Ms: 25, queueP99Ms: 50, overheadPercent: 5 };
const SUBMIT = { ratePerSecond: 200, seconds: 10, closedConcurrency: 64, closedSeconds: 8 };
const QUEUE = { count: 300, intervalMs: 40 };
const OVERHEAD_RUNS = 30;
const USERS = Array.from({ length: 8 }, (_, i) => `bench-user-${i}`);
// The sliding-window limit still runs on every submit; it is only set high enough not to refuse the bench.
const edgeEnv = { RATE_LIMIT_PER_MINUTE: "1000000" };

const line = (label: string, s: Summary, unit = "ms") =>
  console.log(`  ${label.padEnd(44)} p50 ${fmt(s.p50)} ${unit}  p99 ${fmt(s.p99)} ${unit}  (n=${s.count})`);
const verdict = (name: string, ok: boolean, detail: string) =>
  console.log(`  ${ok ? "PASS" : "FAIL"}  ${name.padEnd(40)} ${detail}`);
const rejections = (r: Record<string, number>) =>
  Object.keys(r).length ? ` rejected ${JSON.stringify(r)}` : " rejected none";

async function loadPlan(pipeline: Pipeline, body: Record<string, unknown>) {
  return { edgeUrl: pipeline.edgeUrl, tokens: await Promise.all(USERS.map((u) => pipeline.token(u))), body };
}

/** A load run, with the share of a core the pipeline process (edge, gateway, bridge, relay: one event loop) used. */
async function measuredLoad(plan: EdgeLoadPlan) {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await runEdgeLoad(plan);
  const cpu = process.cpuUsage(cpuBefore);
  return { ...result, pipelineCpu: (cpu.user + cpu.system) / 1000 / (performance.now() - started) };
}

async function submitPhase() {
  const pipeline = await startPipeline({ workers: 0, edgeEnv });
  try {
    const plan = await loadPlan(pipeline, { prompt: "bench submit", width: 256, height: 256 });
    await runEdgeLoad({ ...plan, mode: "closed", concurrency: 16, durationMs: 2000 }); // warm-up: JIT, connections
    const count = SUBMIT.ratePerSecond * SUBMIT.seconds;
    const open = await measuredLoad({ ...plan, mode: "open", ratePerSecond: SUBMIT.ratePerSecond, count });
    const durationMs = SUBMIT.closedSeconds * 1000;
    const closed = await measuredLoad({ ...plan, mode: "closed", concurrency: SUBMIT.closedConcurrency, durationMs });
    const cpu = (r: typeof open) =>
      `CPU: pipeline ${Math.round(r.pipelineCpu * 100)}%, client ${Math.round(r.clientCpu * 100)}% of a core`;
    console.log("\n1. Submit: edge → gateway → Kafka (client in a child process, 8 users, no workers)");
    line(`open loop ${SUBMIT.ratePerSecond} req/s, ${SUBMIT.seconds} s, from scheduled time`, open.latency);
    console.log(
      `  ${"".padEnd(44)} accepted ${open.accepted}/${open.sent} = ${Math.round(open.accepted / open.seconds)}/s;${rejections(open.rejected)}; ${cpu(open)}`,
    );
    line(`closed loop ${SUBMIT.closedConcurrency} callers, ${SUBMIT.closedSeconds} s`, closed.latency);
    console.log(
      `  ${"".padEnd(44)} accepted ${Math.round(closed.accepted / closed.seconds)}/s;${rejections(closed.rejected)}; ${cpu(closed)}`,
    );
    return open;
  } finally {
    await pipeline.stop();
  }
}

/** The procedural provider, noting when each call inside the pipeline began and ended (epoch ms). */
function timedProvider() {
  const real = createProceduralProvider();
  const now = epochClock();
  const calls: { began: number; ended: number }[] = [];
  const provider: GenerationProvider = {
    name: "timed-procedural",
    async generate(input) {
      const began = now();
      try {
        return await real.generate(input);
      } finally {
        calls.push({ began, ended: now() });
      }
    },
  };
  return { provider, calls };
}

// The same parameters on both sides, so both draw (and encode) the same images.
const overheadParams = (i: number) => ({
  prompt: `overhead ${i}`,
  style: "pixel-art" as const,
  width: 1024,
  height: 1024,
  format: "webp" as const,
  seed: 1000 + i,
});

async function workerPhases() {
  const timed = timedProvider();
  const pipeline = await startPipeline({ workers: 2, maxConcurrent: 4, provider: timed.provider, edgeEnv });
  const observer = await observePipeline(pipeline.kafka, {
    requests: pipeline.topics.requests.name,
    status: pipeline.topics.status.name,
  });
  const submitOne = async (body: Record<string, unknown>) => {
    const response = await pipeline.submit(USERS[0] ?? "bench", body);
    const { id } = (await response.json()) as { id: string };
    if (response.status !== 202) throw new Error(`submit answered ${response.status}`);
    return observer.ended(id);
  };
  try {
    for (let i = 0; i < 5; i++) await submitOne({ prompt: `warm-up ${i}`, width: 256, height: 256 });

    const plan = await loadPlan(pipeline, { prompt: "bench queue", width: 256, height: 256 });
    const spaced = await runEdgeLoad({
      ...plan,
      mode: "open",
      ratePerSecond: 1000 / QUEUE.intervalMs,
      count: QUEUE.count,
    });
    const queued = await Promise.all(spaced.ids.map((id) => observer.ended(id)));
    const waits = (from: "producedAt" | "createdAt") =>
      summarize(queued.map((o) => (o.startedAt ?? Number.NaN) - (o[from] ?? Number.NaN)).filter(Number.isFinite));
    const queue = waits("producedAt");
    console.log(`\n2. Queue latency, idle workers (2 × 4 slots), 256×256 submitted every ${QUEUE.intervalMs} ms`);
    line("request record timestamp → first `processing` at", queue);
    line("request createdAt (edge) → first `processing` at", waits("createdAt"));

    // Alternating one standalone call and one generation through the pipeline, so a change in
    // background load during the run affects both sides alike.
    const standalone = createProceduralProvider();
    const signal = new AbortController().signal;
    await standalone.generate({ params: overheadParams(-1), signal, onStage: () => {} }); // warm-up
    const providerMs: number[] = [];
    const observed: Observed[] = [];
    timed.calls.length = 0;
    for (let i = 0; i < OVERHEAD_RUNS; i++) {
      await Bun.sleep(20);
      const began = performance.now();
      await standalone.generate({ params: overheadParams(i), signal, onStage: () => {} });
      providerMs.push(performance.now() - began);
      const o = await submitOne(overheadParams(i));
      if (o.outcome !== "completed") throw new Error(`a generation ended ${o.outcome}`);
      observed.push(o);
    }
    const span = (f: (o: Observed, call: { began: number; ended: number }) => number) =>
      summarize(observed.map((o, i) => f(o, timed.calls[i] ?? { began: Number.NaN, ended: Number.NaN })));
    const workerMs = span((o) => (o.endedAt ?? Number.NaN) - (o.startedAt ?? Number.NaN));
    const providerMedian = median(providerMs);
    const overhead = ((workerMs.p50 - providerMedian) / providerMedian) * 100;
    console.log(`\n3. Per-generation overhead, 1024×1024 webp, ${OVERHEAD_RUNS} generations one at a time`);
    line("provider alone, in-process", summarize(providerMs));
    line("worker: first `processing` at → outcome recorded", workerMs);
    line(
      "  before the provider call",
      span((o, c) => c.began - (o.startedAt ?? Number.NaN)),
    );
    line(
      "  the provider call inside the pipeline",
      span((_, c) => c.ended - c.began),
    );
    line(
      "  after it (store, claim, complete event acked)",
      span((o, c) => (o.endedAt ?? Number.NaN) - c.ended),
    );
    console.log(
      `  overhead (medians): ${fmt(workerMs.p50 - providerMedian, 1)} ms = ${fmt(overhead, 1)}% of the provider's time`,
    );
    return { queue, overhead };
  } finally {
    await observer.stop().catch(() => {});
    await pipeline.stop();
  }
}

const open = await submitPhase();
const { queue, overhead } = await workerPhases();
console.log("\nGoals");
verdict(
  `submit p99 ≤ ${GOALS.submitP99Ms} ms at ${SUBMIT.ratePerSecond} req/s`,
  open.latency.p99 <= GOALS.submitP99Ms && open.accepted === open.sent,
  `p99 ${fmt(open.latency.p99)} ms, ${open.accepted}/${open.sent} accepted`,
);
verdict(`queue latency p99 ≤ ${GOALS.queueP99Ms} ms`, queue.p99 <= GOALS.queueP99Ms, `p99 ${fmt(queue.p99)} ms`);
verdict(
  `overhead ≤ ${GOALS.overheadPercent}% of provider time`,
  overhead <= GOALS.overheadPercent,
  `${fmt(overhead, 1)}%`,
);
