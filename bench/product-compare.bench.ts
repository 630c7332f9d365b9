/**
 * `npx bun bench/product-compare.bench.ts [--rounds N] [--scaling]`: our pipeline against its
 * BullMQ twin (bench/twin/), whole product against whole product, in one run on this machine.
 * Each product runs as real separate processes (bench/stacks.ts); clients run in child
 * processes; one product at a time, so the other's processes take no CPU from it. Every figure
 * of ours is printed with the twin's and their ratio, and checked against issue 13's goals.
 *
 *   submit      edge HTTP API, no workers: accepted/s at 64 callers, p50/p99 at a fixed open-loop rate
 *   start       edge `createdAt` → worker start, idle workers (paced) and under a backlog (burst)
 *   overhead    one 1024² webp at a time: client POST → terminal message, and worker start → outcome,
 *               against the provider call's own time inside the worker (timings.generationMs)
 *   saturation  a burst of 1024² webp: images/s as a fraction of the provider alone (measured next
 *               to it, same concurrency), and CPU-seconds of the product's processes per generation
 *   progress    status `at` → WebSocket client, 1,000 sockets (bench/ws-clients.ts)
 *   idle        CPU of every process of the product with no traffic
 * `--scaling`: instead, saturation only, with 1, 2 and 4 worker processes.
 * `--submit`: instead, the submit rows only, with each process's CPU per submit.
 * `--direct`: ours with option 3(d) of bench/README — the Bun edge producing to Kafka itself, no
 * REST gateway (bench/direct/edge.ts) — to measure what that change of the deployment would buy.
 */
import type { GenerationParams } from "../shared/events/params.ts";
import { runEdgeLoad } from "./edge-load.ts";
import { type Followed, runGenerations } from "./generation-client.ts";
import { cpuSeconds, listenerPid, machineTicks } from "./processes.ts";
import { runProviderAlone, runProviderProcesses } from "./provider-alone.ts";
import { type Product, type Stack, type StackOptions, startStack } from "./stacks.ts";
import { fmt, median, summarize } from "./stats.ts";
import { runWatchers } from "./watchers.ts";

const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const ROUNDS = Math.min(5, option("--rounds", 1));
const SCALING = process.argv.includes("--scaling");
const SUBMIT_ONLY = process.argv.includes("--submit");
const DIRECT = process.argv.includes("--direct");
// The production defaults; `edge` applies to ours only.
const LAYOUT: StackOptions = { workers: 2, maxConcurrent: 4, edge: DIRECT ? "direct" : "rest" };
const SUBMIT = { ratePerSecond: 200, openSeconds: 5, callers: 64, closedSeconds: 5 };
const PACED = { count: 100, intervalMs: 50 };
const OVERHEAD_RUNS = 15;
const BURST = 48;
const PROGRESS = { sockets: 1000, perGeneration: 5, warmupMs: 3000, measureMs: 10_000 };
const IDLE_SECONDS = 10;
const USERS = 8;
const PRODUCTS: Product[] = ["ours", "twin"];

const small = { prompt: "bench small", width: 256, height: 256, format: "webp" };
const large = (i: number): GenerationParams => ({
  prompt: `bench large ${i}`,
  style: "pixel-art",
  width: 1024,
  height: 1024,
  format: "webp",
  seed: 1000 + i,
});

/** Shared servers both products lean on: their CPU is shown, not attributed (others use them too). */
const shared = { redis: listenerPid(6379), kafka: listenerPid(9092) };
const sharedCpu = (pid: number | null) => (pid ? cpuSeconds(pid) : Number.NaN);

/** CPU of the product's processes, of Redis and Kafka, and how busy the whole machine was, over `work`. */
async function measured<T>(stack: Stack, work: () => Promise<T>) {
  const cpu0 = stack.cpu();
  const redis0 = sharedCpu(shared.redis);
  const kafka0 = sharedCpu(shared.kafka);
  const machine0 = machineTicks();
  const began = performance.now();
  const result = await work();
  const seconds = (performance.now() - began) / 1000;
  const machine1 = machineTicks();
  return {
    result,
    seconds,
    productCpu: stack.cpu() - cpu0,
    redisCpu: sharedCpu(shared.redis) - redis0,
    kafkaCpu: sharedCpu(shared.kafka) - kafka0,
    machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
  };
}

const tokens = (stack: Stack) => Promise.all(Array.from({ length: USERS }, (_, i) => stack.token(`bench-user-${i}`)));
const ended = (f: Followed[]) => f.filter((g) => g.outcome === "completed");
const startWaits = (f: Followed[]) => summarize(f.map((g) => g.startedAt - g.createdAt).filter(Number.isFinite));

async function submitPhase(product: Product) {
  const stack = await startStack(product, { ...LAYOUT, workers: 0 });
  try {
    const plan = { edgeUrl: stack.edgeUrl, tokens: await tokens(stack), body: small };
    await runEdgeLoad({ ...plan, mode: "closed", concurrency: 16, durationMs: 1500 }); // JIT, connections
    const open = await runEdgeLoad({
      ...plan,
      mode: "open",
      ratePerSecond: SUBMIT.ratePerSecond,
      count: SUBMIT.ratePerSecond * SUBMIT.openSeconds,
    });
    const pids = Object.entries(stack.pids());
    const before = pids.map(([, pid]) => cpuSeconds(pid));
    const closed = await measured(stack, () =>
      runEdgeLoad({ ...plan, mode: "closed", concurrency: SUBMIT.callers, durationMs: SUBMIT.closedSeconds * 1000 }),
    );
    const perSubmitMs = (cpu: number) => (cpu / Math.max(1, closed.result.accepted)) * 1000;
    return {
      cpuPerSubmitByProcess: Object.fromEntries(
        pids.map(([name, pid], i) => [name, perSubmitMs(cpuSeconds(pid) - (before[i] ?? 0))]),
      ),
      redisCpuPerSubmitMs: perSubmitMs(closed.redisCpu),
      kafkaCpuPerSubmitMs: perSubmitMs(closed.kafkaCpu),
      open: open.latency,
      openAccepted: open.accepted / open.sent,
      perSecond: closed.result.accepted / closed.result.seconds,
      closedRejected: closed.result.sent - closed.result.accepted,
      cpuPerSubmitMs: perSubmitMs(closed.productCpu),
      machineBusy: closed.machineBusy,
    };
  } finally {
    await stack.stop();
  }
}

/** A burst of 1024² webp through the product, next to the provider alone at the same concurrency. */
async function saturation(stack: Stack, layout: StackOptions, users: string[]) {
  const params = Array.from({ length: BURST }, (_, i) => large(i));
  const alone = await runProviderAlone({ params, concurrency: layout.workers * layout.maxConcurrent });
  const aloneAsWorkers = await runProviderProcesses(params, layout.workers, layout.maxConcurrent);
  const burst = await measured(stack, () =>
    runGenerations({ edgeUrl: stack.edgeUrl, tokens: users, bodies: params, count: BURST, mode: "burst" }),
  );
  const done = ended(burst.result.followed).length;
  return {
    perSecond: done / burst.result.seconds,
    alonePerSecond: BURST / alone.seconds,
    aloneAsWorkersPerSecond: aloneAsWorkers.perSecond,
    failures: BURST - done,
    backlogStart: startWaits(burst.result.followed),
    cpuPerGeneration: burst.productCpu / Math.max(1, done),
    aloneCpuPerGeneration: alone.cpuSeconds / BURST,
    redisCpuPerGeneration: burst.redisCpu / Math.max(1, done),
    kafkaCpuPerGeneration: burst.kafkaCpu / Math.max(1, done),
    machineBusy: burst.machineBusy,
  };
}

/** The product with no traffic, after its warm-up: share of a core, in all and per process. */
async function idleCpu(stack: Stack) {
  await Bun.sleep(2000);
  const pids = Object.entries(stack.pids());
  const before = pids.map(([, pid]) => cpuSeconds(pid));
  const window = await measured(stack, () => Bun.sleep(IDLE_SECONDS * 1000));
  return {
    core: window.productCpu / window.seconds,
    byProcess: Object.fromEntries(
      pids.map(([name, pid], i) => [name, (cpuSeconds(pid) - (before[i] ?? 0)) / window.seconds]),
    ),
    machineBusy: window.machineBusy,
  };
}

async function workerPhases(product: Product) {
  const stack = await startStack(product, LAYOUT);
  try {
    const users = await tokens(stack);
    const generations = (
      bodies: Record<string, unknown>[],
      count: number,
      mode: "burst" | "paced" | "sequential",
      intervalMs?: number,
    ) => runGenerations({ edgeUrl: stack.edgeUrl, tokens: users, bodies, count, mode, intervalMs });
    await generations([small], 16, "paced", 30); // warm-up: JIT, connections, every worker
    const idle = await idleCpu(stack);

    const paced = await generations([small], PACED.count, "paced", PACED.intervalMs);
    const idleStart = startWaits(paced.followed);

    const oneAtATime = Array.from({ length: OVERHEAD_RUNS }, (_, i) => large(100 + i));
    const sequential = await generations(oneAtATime, OVERHEAD_RUNS, "sequential", 20);
    // Against the provider's own time for the same image inside the worker (timings.generationMs):
    // no yardstick taken at another moment or in another process.
    const done = ended(sequential.followed).filter((g) => g.generationMs > 0);
    const overhead = {
      generationMs: median(done.map((g) => g.generationMs)),
      clientMs: median(done.map((g) => g.receivedAt - g.sentAt)),
      workerMs: median(done.map((g) => g.finishedAt - g.startedAt)),
      clientPercent: median(done.map((g) => ((g.receivedAt - g.sentAt) / g.generationMs - 1) * 100)),
      workerPercent: median(done.map((g) => ((g.finishedAt - g.startedAt) / g.generationMs - 1) * 100)),
    };

    const saturated = await saturation(stack, LAYOUT, users);

    const watch = await measured(stack, () =>
      runWatchers({ edgeUrl: stack.edgeUrl, jwtSecret: stack.jwtSecret, wsUrl: stack.wsUrl, ...PROGRESS }),
    );

    return {
      idleStart,
      pacedFailures: paced.failures.length + sequential.failures.length,
      overhead,
      saturated,
      progress: watch.result,
      progressBusy: watch.machineBusy,
      idle,
    };
  } finally {
    await stack.stop();
  }
}

type Submit = Awaited<ReturnType<typeof submitPhase>>;

function submitCpuLine(submit: Submit): string {
  const byProcess = Object.entries(submit.cpuPerSubmitByProcess)
    .map(([name, ms]) => `${name} ${fmt(ms, 3)}`)
    .join(", ");
  return `  CPU ms per submit by process: ${byProcess}; + Redis ${fmt(submit.redisCpuPerSubmitMs, 3)}, + Kafka ${fmt(submit.kafkaCpuPerSubmitMs, 3)} (shared servers)`;
}

/** `--submit`: the submit rows of both products, the same run, and where each one's CPU went. */
async function submitOnly() {
  const results = {} as Record<Product, Submit>;
  for (const product of PRODUCTS) results[product] = await submitPhase(product);
  const { ours, twin } = results;
  console.log(
    `accepted/s at ${SUBMIT.callers} callers: ${fmt(ours.perSecond, 0)} / ${fmt(twin.perSecond, 0)} (${fmt(ours.perSecond / twin.perSecond)}×, goal ≥ 1× twin: ${ours.perSecond >= twin.perSecond ? "PASS" : "FAIL"})`,
  );
  console.log(
    `p50 / p99 at ${SUBMIT.ratePerSecond}/s open loop, ms: ${fmt(ours.open.p50, 1)} / ${fmt(ours.open.p99, 1)} vs ${fmt(twin.open.p50, 1)} / ${fmt(twin.open.p99, 1)}`,
  );
  for (const product of PRODUCTS) {
    console.log(`${product}: CPU per submit ${fmt(results[product].cpuPerSubmitMs, 3)} ms`);
    console.log(submitCpuLine(results[product]));
  }
}
type Workers = Awaited<ReturnType<typeof workerPhases>>;

function report(results: Record<Product, { submit: Submit; workers: Workers }>) {
  const o = results.ours;
  const t = results.twin;
  const cell = (v: string, w: number) => v.padStart(w);
  const rows: [string, number, number, string, string?][] = [];
  const add = (label: string, ours: number, twin: number, unit: string, goal?: string) =>
    rows.push([label, ours, twin, unit, goal]);
  add("submit: accepted/s, 64 callers", o.submit.perSecond, t.submit.perSecond, "/s", "≥ 1× twin");
  add(`submit: p50 at ${SUBMIT.ratePerSecond}/s open loop`, o.submit.open.p50, t.submit.open.p50, "ms");
  add(`submit: p99 at ${SUBMIT.ratePerSecond}/s open loop`, o.submit.open.p99, t.submit.open.p99, "ms");
  add("submit: CPU of the product per submit", o.submit.cpuPerSubmitMs, t.submit.cpuPerSubmitMs, "ms");
  add("request → worker start p50, idle", o.workers.idleStart.p50, t.workers.idleStart.p50, "ms");
  add("request → worker start p99, idle", o.workers.idleStart.p99, t.workers.idleStart.p99, "ms", "≤ 1× twin");
  add(
    `request → worker start p50, burst of ${BURST}`,
    o.workers.saturated.backlogStart.p50,
    t.workers.saturated.backlogStart.p50,
    "ms",
  );
  add(
    `request → worker start p99, burst of ${BURST}`,
    o.workers.saturated.backlogStart.p99,
    t.workers.saturated.backlogStart.p99,
    "ms",
    "≤ 1× twin",
  );
  add("progress → browser p50, 1,000 sockets", o.workers.progress.latency.p50, t.workers.progress.latency.p50, "ms");
  add(
    "progress → browser p99, 1,000 sockets",
    o.workers.progress.latency.p99,
    t.workers.progress.latency.p99,
    "ms",
    "≤ 1.5× twin",
  );
  add(
    "saturation: images/s, 1024² webp",
    o.workers.saturated.perSecond,
    t.workers.saturated.perSecond,
    "/s",
    "≥ 1× twin",
  );
  add(
    "saturation: fraction of the provider alone",
    o.workers.saturated.perSecond / o.workers.saturated.alonePerSecond,
    t.workers.saturated.perSecond / t.workers.saturated.alonePerSecond,
    "×",
    "ours ≥ 0.9",
  );
  add(
    "CPU-seconds per generation (product)",
    o.workers.saturated.cpuPerGeneration,
    t.workers.saturated.cpuPerGeneration,
    "s",
  );
  add("overhead per 1024² webp, client view", o.workers.overhead.clientPercent, t.workers.overhead.clientPercent, "%");
  // Issue 13's overhead goal is the worker's: start → outcome recorded, against the provider's time.
  add(
    "overhead per 1024² webp, worker span",
    o.workers.overhead.workerPercent,
    t.workers.overhead.workerPercent,
    "%",
    "ours ≤ 5",
  );
  add("idle CPU of the whole stack", o.workers.idle.core * 100, t.workers.idle.core * 100, "% core", "ours ≤ 5");

  console.log(`\n${"".padEnd(46)}${cell("ours", 11)}${cell("BullMQ twin", 13)}${cell("ours/twin", 11)}   goal`);
  for (const [label, ours, twin, unit, goal] of rows) {
    const ratio = ours / twin;
    let verdict = "";
    if (goal === "≥ 1× twin") verdict = ratio >= 1 ? "PASS" : "FAIL";
    if (goal === "≤ 1× twin") verdict = ratio <= 1 ? "PASS" : "FAIL";
    if (goal === "≤ 1.5× twin") verdict = ratio <= 1.5 ? "PASS" : "FAIL";
    if (goal === "ours ≥ 0.9") verdict = ours >= 0.9 && ours >= twin ? "PASS" : "FAIL";
    if (goal === "ours ≤ 5") verdict = ours <= 5 ? "PASS" : "FAIL";
    const digits = unit === "/s" || unit === "% core" || unit === "%" ? 1 : unit === "s" ? 3 : 2;
    console.log(
      `${label.padEnd(46)}${cell(`${fmt(ours, digits)}`, 11)}${cell(fmt(twin, digits), 13)}${cell(`${fmt(ratio)}×`, 11)}   ${unit.padEnd(7)}${goal ? `${goal.padEnd(12)} ${verdict}` : ""}`,
    );
  }
  for (const product of PRODUCTS) {
    const { submit, workers } = results[product];
    const s = workers.saturated;
    console.log(`\n${product}:`);
    console.log(
      `  submit: open loop ${Math.round(submit.openAccepted * 100)}% accepted, closed loop ${submit.closedRejected} refused; machine busy ${Math.round(submit.machineBusy * 100)}%`,
    );
    console.log(submitCpuLine(submit));
    console.log(
      `  saturation: ${fmt(s.perSecond)}/s vs provider alone ${fmt(s.alonePerSecond)}/s in one process, ${fmt(s.aloneAsWorkersPerSecond)}/s in the workers' layout (measured just before); ${s.failures} failed;` +
        ` CPU-s per generation: product ${fmt(s.cpuPerGeneration, 3)}, provider alone ${fmt(s.aloneCpuPerGeneration, 3)},` +
        ` + Redis ${fmt(s.redisCpuPerGeneration, 3)}, + Kafka ${fmt(s.kafkaCpuPerGeneration, 3)} (shared servers, others' load included); machine busy ${Math.round(s.machineBusy * 100)}%`,
    );
    const ov = workers.overhead;
    console.log(
      `  one at a time (medians): provider call in the worker ${fmt(ov.generationMs, 1)} ms, client POST → terminal ${fmt(ov.clientMs, 1)} ms, worker start → outcome ${fmt(ov.workerMs, 1)} ms`,
    );
    const p = workers.progress;
    console.log(
      `  progress: ${p.latency.count} messages, ${p.events} events, ${p.generations} generations in ${p.seconds} s, sockets open min/mean ${p.openSockets.min}/${p.openSockets.mean},` +
        ` ${p.submitFailures} submit failures, ${p.abnormalCloses} abnormal closes; machine busy ${Math.round(workers.progressBusy * 100)}%`,
    );
    const idle = Object.entries(workers.idle.byProcess)
      .map(([name, share]) => `${name} ${fmt(share * 100, 1)}%`)
      .join(", ");
    console.log(
      `  idle CPU by process (% of a core): ${idle}; machine busy ${Math.round(workers.idle.machineBusy * 100)}%`,
    );
    if (workers.pacedFailures) console.log(`  ${workers.pacedFailures} paced/sequential generations failed`);
  }
}

async function scaling() {
  console.log("Scaling: saturation (burst of 1024² webp) by worker processes × 4 generations each\n");
  console.log(
    "product   workers   images/s   provider alone /s   same layout /s   fraction   CPU-s/gen   start p99 ms",
  );
  for (const workers of [1, 2, 4])
    for (const product of PRODUCTS) {
      const layout = { ...LAYOUT, workers };
      const stack = await startStack(product, layout);
      try {
        const users = await tokens(stack);
        await runGenerations({
          edgeUrl: stack.edgeUrl,
          tokens: users,
          bodies: [small],
          count: 16,
          mode: "paced",
          intervalMs: 30,
        });
        const s = await saturation(stack, layout, users);
        console.log(
          `${product.padEnd(9)} ${String(workers).padStart(7)} ${fmt(s.perSecond).padStart(10)} ${fmt(s.alonePerSecond).padStart(19)} ${fmt(s.aloneAsWorkersPerSecond).padStart(16)} ${fmt(s.perSecond / s.alonePerSecond).padStart(10)} ${fmt(s.cpuPerGeneration, 3).padStart(11)} ${fmt(s.backlogStart.p99, 0).padStart(14)}`,
        );
      } finally {
        await stack.stop();
      }
    }
}

console.log(
  `Pixel Studio vs its BullMQ twin: ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, load average ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}`,
);
if (DIRECT)
  console.log("ours runs option 3(d): the edge produces to Kafka itself, no REST gateway (bench/direct/edge.ts)");
if (SCALING) await scaling();
else if (SUBMIT_ONLY) await submitOnly();
else
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which product goes first, so a change in background load falls on both.
    const order = round % 2 === 1 ? PRODUCTS : [...PRODUCTS].reverse();
    const results = {} as Record<Product, { submit: Submit; workers: Workers }>;
    for (const product of order) results[product] = { submit: await submitPhase(product), workers: undefined as never };
    for (const product of order) results[product].workers = await workerPhases(product);
    console.log(`\nRound ${round}/${ROUNDS} (${order.join(" first, then ")})`);
    report(results);
  }
process.exit(0);
