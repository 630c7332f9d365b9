/**
 * The procedural provider alone, with no pipeline around it, in a child process of its own: the
 * yardstick each product's generations are measured against in the same run.
 */
import type { GenerationParams } from "../shared/events/params.ts";
import { createProceduralProvider } from "../worker/generation/procedural-provider.ts";
import { planArgument, runInChild } from "./child.ts";

export interface ProviderPlan {
  params: GenerationParams[];
  /** Calls in flight at once in this process. */
  concurrency: number;
  /** Epoch ms to begin at (after the warm-up), so several processes start together. */
  startAt?: number;
}

export interface ProviderResult {
  /** Each call's own time, ms. */
  callMs: number[];
  seconds: number;
  /** Epoch ms when the last call ended. */
  finishedAt: number;
  /** CPU seconds the process used for all calls. */
  cpuSeconds: number;
}

export const runProviderAlone = (plan: ProviderPlan) => runInChild<ProviderResult>(import.meta.path, plan);

/**
 * The provider alone laid out as a product's workers: `processes` children, each with
 * `concurrency` calls in flight, sharing `params`, started together. Images per second overall.
 */
export async function runProviderProcesses(params: GenerationParams[], processes: number, concurrency: number) {
  const startAt = Date.now() + 1500; // after every child's start-up and warm-up call
  const results = await Promise.all(
    Array.from({ length: processes }, (_, i) =>
      runProviderAlone({ params: params.filter((_, j) => j % processes === i), concurrency, startAt }),
    ),
  );
  const seconds = (Math.max(...results.map((r) => r.finishedAt)) - startAt) / 1000;
  return { perSecond: params.length / seconds, cpuSeconds: results.reduce((sum, r) => sum + r.cpuSeconds, 0) };
}

async function run(plan: ProviderPlan): Promise<ProviderResult> {
  const provider = createProceduralProvider();
  const signal = new AbortController().signal;
  const first = plan.params[0];
  if (first) await provider.generate({ params: { ...first, seed: 0 }, signal, onStage: () => {} }); // JIT, sharp's threads
  const callMs: number[] = [];
  let next = 0;
  if (plan.startAt !== undefined) await Bun.sleep(Math.max(0, plan.startAt - Date.now()));
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      for (let params = plan.params[next++]; params; params = plan.params[next++]) {
        const began = performance.now();
        await provider.generate({ params, signal, onStage: () => {} });
        callMs.push(performance.now() - began);
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return {
    callMs,
    seconds: (performance.now() - started) / 1000,
    finishedAt: Date.now(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

if (import.meta.main) console.log(JSON.stringify(await run(planArgument<ProviderPlan>())));
