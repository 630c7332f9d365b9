/**
 * `npx bun bench/ws-delivery.bench.ts [--sockets 1000] [--max-sockets 10000] [--seconds 20]`:
 * real-time progress delivery on this machine, loopback only; topics and keys are fresh and deleted
 * at the end.
 *
 * 1. Status delivery latency with `--sockets` clients, on the real path (see delivery-latency.ts),
 *    at two event rates set by the worker capacity: one generation in flight, and the production
 *    defaults (2 workers × 4), which keep this 2-core machine nearly fully busy.
 * 2. Sockets one live server instance holds and its memory per socket, in steps up to
 *    `--max-sockets` (see socket-capacity.ts).
 */
import { type CpuShares, type LatencyRun, measureDeliveryLatency } from "./delivery-latency.ts";
import { measureSocketCapacity } from "./socket-capacity.ts";
import type { WatchResult } from "./ws-clients.ts";

const LOADS = [
  { workers: 1, inFlight: 1 },
  { workers: 2, inFlight: 4 },
];
/** Sockets per generation: a user with a few tabs open, so each Redis message fans out to several sockets. */
const PER_GENERATION = 5;
const WARMUP_MS = 5_000;
const STEPS = [1_000, 2_000, 5_000, 10_000];
const GOAL_P99_MS = 50;
const GOAL_LATENCY_SOCKETS = 1_000;
const GOAL_SOCKETS = 10_000;

const option = (name: string, fallback: number, max: number) => {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  return Number.isInteger(value) && value > 0 ? Math.min(value, max) : fallback;
};
const sockets = option("--sockets", 1_000, 5_000);
const maxSockets = option("--max-sockets", 10_000, 15_000);
const seconds = option("--seconds", 20, 120);

const cell = (value: string | number, width: number) => String(value).padStart(width);
const percent = (share: number) => `${Math.round(share * 100)}%`;
const row = (cells: [string | number, number][]) => console.log(cells.map(([v, w]) => cell(v, w)).join(" "));

console.log(`WebSocket delivery benchmark: ${navigator.hardwareConcurrency} cores, loopback, Bun ${Bun.version}\n`);

const latencies: { load: (typeof LOADS)[number]; result: WatchResult; cpu: CpuShares }[] = [];
for (const load of LOADS) {
  const run: LatencyRun = {
    sockets,
    perGeneration: PER_GENERATION,
    ...load,
    warmupMs: WARMUP_MS,
    measureMs: seconds * 1000,
  };
  latencies.push({ load, ...(await measureDeliveryLatency(run)) });
}
console.log(`1. Status delivery latency with ${sockets} sockets: status event \`at\` → client receipt`);
console.log("   worker → Kafka image.generation.status → status relay → Redis Lua/PUBLISH → live server → WebSocket");
console.log(
  `   ${Math.ceil(sockets / PER_GENERATION)} users × ${PER_GENERATION} sockets on their current generation (256×256 webp), ` +
    `each resubmitting through the edge when it ends;\n   ${seconds} s window after ${WARMUP_MS / 1000} s warm-up; ` +
    "processes: pipeline (edge, gateways, relay, workers) | live server | clients\n",
);
console.log(
  "   workers × in flight   sockets open (min/mean)   generations/s   status events   msgs measured   msgs/s   p50   p90   p99   max",
);
for (const { load, result } of latencies) {
  const l = result.latency;
  row([
    [`${load.workers} × ${load.inFlight}`, 22],
    [`${result.openSockets.min}/${result.openSockets.mean}`, 25],
    [Math.round(result.generations / result.seconds), 15],
    [result.events, 15],
    [l.count, 15],
    [Math.round(l.count / result.seconds), 8],
    [l.p50, 5],
    [l.p90, 5],
    [l.p99, 5],
    [l.max, 5],
  ]);
}
console.log(
  "\n   CPU in the window (1.00 = one core)   pipeline   live server   clients   Kafka   Redis   other   machine busy",
);
for (const { load, result, cpu } of latencies) {
  row([
    [`${load.workers} × ${load.inFlight}`, 22],
    [cpu.pipeline.toFixed(2), 25],
    [cpu.live.toFixed(2), 13],
    [cpu.clients.toFixed(2), 9],
    [cpu.kafka.toFixed(2), 7],
    [cpu.redis.toFixed(2), 7],
    [cpu.other.toFixed(2), 7],
    [percent(cpu.machine), 14],
  ]);
  if (result.submitFailures || result.abnormalCloses)
    console.log(`   ${result.submitFailures} submits failed, ${result.abnormalCloses} sockets closed abnormally`);
}
console.log("   msgs measured: status messages received in the window, one per socket per event; latencies in ms");
console.log("   other: kernel and any process not part of the benchmark; `at` has 1 ms resolution\n");

const targets = [...STEPS.filter((s) => s < maxSockets), maxSockets];
const capacity = await measureSocketCapacity(targets);
console.log("2. Sockets held by one live server process, each on its own generation (one Redis channel each)");
console.log(`   open-files limit of the server process: ${capacity.openFilesLimit}\n`);
console.log(
  "   sockets    held   snapshots   failed   open s   RSS MiB   KiB/socket since idle   KiB/socket this step",
);
row([
  ["idle", 10],
  ["", 7],
  ["", 11],
  ["", 8],
  ["", 8],
  [(capacity.idleKiB / 1024).toFixed(1), 9],
]);
let previous = { target: 0, rssKiB: capacity.idleKiB };
for (const step of capacity.steps) {
  row([
    [step.target, 10],
    [step.held, 7],
    [step.snapshots, 11],
    [step.failed, 8],
    [step.openSeconds.toFixed(1), 8],
    [(step.rssKiB / 1024).toFixed(1), 9],
    [step.held ? ((step.rssKiB - capacity.idleKiB) / step.held).toFixed(1) : "-", 23],
    [((step.rssKiB - previous.rssKiB) / (step.target - previous.target)).toFixed(1), 22],
  ]);
  previous = step;
}

const goal = (label: string, verdict: string, detail: string) =>
  console.log(`   ${label.padEnd(48)} ${verdict}  (${detail})`);
console.log("\nGoals");
for (const { load, result } of latencies) {
  const p99 = result.latency.p99;
  goal(
    `p99 ≤ ${GOAL_P99_MS} ms at 1,000 sockets, ${load.workers} × ${load.inFlight} in flight`,
    sockets < GOAL_LATENCY_SOCKETS ? "n/a " : p99 <= GOAL_P99_MS ? "PASS" : "FAIL",
    `p99 ${p99} ms, ${sockets} sockets, ${Math.round(result.latency.count / result.seconds)} msgs/s`,
  );
}
const top = capacity.steps.at(-1);
const held = top && top.held >= GOAL_SOCKETS && top.snapshots >= GOAL_SOCKETS && top.failed === 0;
goal(
  `${GOAL_SOCKETS.toLocaleString("en")} sockets on one instance`,
  held ? "PASS" : "FAIL",
  `${top?.held ?? 0} held, ${top?.snapshots ?? 0} snapshots, ${top?.failed ?? 0} failed`,
);
process.exit(0);
