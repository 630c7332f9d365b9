/**
 * The procedural provider alone, with no pipeline around it, in a child process of its own: the
 * yardstick each product's generations are measured against in the same run.
 */
import type { GenerationParams } from "../shared/events/params.ts";
import { createProceduralProvider } from "../worker/generation/procedural-provider.ts";
import { planArgument, runInChild } from "./child.ts";

export interface ProviderPlan {
  params: GenerationParams[];
  /** Calls in flight at once: the product's workers × MAX_CONCURRENT_GENERATIONS. */
  concurrency: number;
}

export interface ProviderResult {
  /** Each call's own time, ms. */
  callMs: number[];
  seconds: number;
  /** CPU seconds the process used for all calls. */
  cpuSeconds: number;
}

export const runProviderAlone = (plan: ProviderPlan) => runInChild<ProviderResult>(import.meta.path, plan);

async function run(plan: ProviderPlan): Promise<ProviderResult> {
  const provider = createProceduralProvider();
  const signal = new AbortController().signal;
  const first = plan.params[0];
  if (first) await provider.generate({ params: { ...first, seed: 0 }, signal, onStage: () => {} }); // JIT, sharp's threads
  const callMs: number[] = [];
  let next = 0;
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
  return { callMs, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

if (import.meta.main) console.log(JSON.stringify(await run(planArgument<ProviderPlan>())));
