/**
 * `npx bun bench/profile-stack.ts <idle|submit|generate> [ours|twin]`: runs one product's whole
 * stack (bench/stacks.ts) with every process under Bun's CPU profiler through one scenario, then
 * prints, per process, its CPU seconds and where its JavaScript time went (cpu-profile-summary.ts).
 * The profiles (`.cpuprofile` for Chrome DevTools, `.md`) stay in the folder it names.
 *
 *   idle      2 workers × 4, a short warm-up, then 20 s with no traffic: what burns CPU idle
 *   submit    no workers, 64 callers on the edge's HTTP API for 8 s: the submit path
 *   generate  2 workers × 4, a burst of 48 × 1024² webp followed on WebSockets: the generation path
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { printProfile, summarizeProfile } from "./cpu-profile-summary.ts";
import { runEdgeLoad } from "./edge-load.ts";
import { runGenerations } from "./generation-client.ts";
import { cpuSeconds } from "./processes.ts";
import { type Product, startStack } from "./stacks.ts";

const scenario = process.argv[2] ?? "";
const product = (process.argv[3] ?? "ours") as Product;
if (!["idle", "submit", "generate"].includes(scenario) || !["ours", "twin"].includes(product)) {
  console.error("usage: profile-stack.ts <idle|submit|generate> [ours|twin]");
  process.exit(2);
}
const profileDir = mkdtempSync(join(tmpdir(), `profile-${product}-${scenario}-`));
const stack = await startStack(product, { workers: scenario === "submit" ? 0 : 2, maxConcurrent: 4, profileDir });
const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => stack.token(`bench-user-${i}`)));
const small = { prompt: "profile", width: 256, height: 256, format: "webp" };
let windowStart = Date.now();
let windowEnd = windowStart;
let cpuAtStart: Record<string, number> = {};
const sampleCpu = () => Object.fromEntries(Object.entries(stack.pids()).map(([name, pid]) => [name, cpuSeconds(pid)]));
let cpuUsed: Record<string, number> = {};
try {
  if (scenario === "submit") {
    windowStart = Date.now();
    cpuAtStart = sampleCpu();
    const load = await runEdgeLoad({
      edgeUrl: stack.edgeUrl,
      tokens,
      body: small,
      mode: "closed",
      concurrency: 64,
      durationMs: 8000,
    });
    console.log(
      `submit: ${Math.round(load.accepted / load.seconds)} accepted/s, p50 ${load.latency.p50.toFixed(1)} ms`,
    );
  } else {
    await runGenerations({ edgeUrl: stack.edgeUrl, tokens, bodies: [small], count: 16, mode: "paced", intervalMs: 30 });
    await Bun.sleep(1000);
    windowStart = Date.now();
    cpuAtStart = sampleCpu();
    if (scenario === "idle") await Bun.sleep(20_000);
    else {
      const bodies = Array.from({ length: 48 }, (_, i) => ({
        ...small,
        prompt: `profile ${i}`,
        width: 1024,
        height: 1024,
        seed: i,
      }));
      const burst = await runGenerations({ edgeUrl: stack.edgeUrl, tokens, bodies, count: 48, mode: "burst" });
      console.log(`generate: 48 in ${burst.seconds.toFixed(2)} s, ${burst.failures.length} failed`);
    }
  }
  windowEnd = Date.now();
  const cpuAtEnd = sampleCpu();
  cpuUsed = Object.fromEntries(Object.entries(cpuAtEnd).map(([name, cpu]) => [name, cpu - (cpuAtStart[name] ?? 0)]));
} finally {
  await stack.stop();
}
const seconds = (windowEnd - windowStart) / 1000;
console.log(
  `\nProfiles of ${product}, scenario ${scenario}: ${profileDir}; the scenario's ${seconds.toFixed(1)} s only`,
);
const spawned = stack.spawnedAt();
for (const file of readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"))) {
  const name = file.replace(/\.cpuprofile$/, "");
  const origin = spawned[name] ?? windowStart;
  const summary = summarizeProfile(join(profileDir, file), { fromMs: windowStart - origin, toMs: windowEnd - origin });
  printProfile(name, summary, cpuUsed[name], seconds);
}
process.exit(0);
