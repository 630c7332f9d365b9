/**
 * `npx bun bench/stack-cpu.ts [ours|twin] [rounds]`: CPU seconds per generation of each process
 * of one product's stack (bench/stacks.ts, 2 workers × 4, no profiler), over bursts of 48 × 1024²
 * webp followed on WebSockets, the shared Kafka and Redis included — the per-process view of product-compare's "CPU-s per
 * generation" with 2.5 s after each burst, to see which process an overhead sits in (`profile-stack.ts` says where inside).
 */
import { runGenerations } from "./generation-client.ts";
import { cpuSeconds, listenerPid } from "./processes.ts";
import { type Product, startStack } from "./stacks.ts";

const product = (process.argv[2] ?? "ours") as Product;
const rounds = Number(process.argv[3] ?? 3);
if (!["ours", "twin"].includes(product) || !Number.isInteger(rounds) || rounds < 1) {
  console.error("usage: stack-cpu.ts [ours|twin] [rounds]");
  process.exit(2);
}
const stack = await startStack(product, { workers: 2, maxConcurrent: 4 });
// The shared servers too (others' load on them included): Kafka is part of our product's cost.
const servers = { "kafka (shared)": listenerPid(9092), "redis (shared)": listenerPid(6379) };
const sample = () =>
  Object.fromEntries(
    Object.entries({ ...stack.pids(), ...servers }).flatMap(([name, pid]) => (pid ? [[name, cpuSeconds(pid)]] : [])),
  );
try {
  const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => stack.token(`bench-user-${i}`)));
  const small = { prompt: "warm-up", width: 256, height: 256, format: "webp" };
  await runGenerations({ edgeUrl: stack.edgeUrl, tokens, bodies: [small], count: 16, mode: "paced", intervalMs: 30 });
  for (let round = 1; round <= rounds; round++) {
    await Bun.sleep(1000);
    const before = sample();
    const bodies = Array.from({ length: 48 }, (_, i) => ({
      prompt: `cpu ${round}-${i}`,
      width: 1024,
      height: 1024,
      format: "webp",
      seed: round * 100 + i,
    }));
    const burst = await runGenerations({ edgeUrl: stack.edgeUrl, tokens, bodies, count: 48, mode: "burst" });
    // What a process deferred (batched fetches, commits) still counts: 2.5 s of tail are included
    // (their idle CPU too, against the product: ~4 % of a core is ~2 ms per generation here).
    await Bun.sleep(2500);
    const after = sample();
    const done = 48 - burst.failures.length;
    const rows = Object.keys(after)
      .map((name) => [name, ((after[name] ?? 0) - (before[name] ?? 0)) / Math.max(1, done)] as const)
      .sort((a, b) => b[1] - a[1]);
    const total = rows.reduce((sum, [, cpu]) => sum + cpu, 0);
    console.log(
      `round ${round}: ${done} in ${burst.seconds.toFixed(2)} s (${(done / burst.seconds).toFixed(1)}/s); CPU ms per generation: total ${(total * 1000).toFixed(1)} — ` +
        rows.map(([name, cpu]) => `${name} ${(cpu * 1000).toFixed(1)}`).join(", "),
    );
  }
} finally {
  await stack.stop();
}
process.exit(0);
