/**
 * The short chaos run (infrastructure/chaos/plans.ts SHORT) on a stack of its own: a baseline,
 * a worker SIGKILLed, the relay SIGKILLed. Asserts nothing accepted was lost, duplicated or left
 * unfinished, watchers saw every event in order, and nothing answered 500 — not how fast it recovered.
 */
import { afterAll, expect, test } from "bun:test";
import { stopChaosStacks } from "./chaos-stack.ts";
import { SHORT } from "./plans.ts";
import { renderReport } from "./report.ts";
import { runChaos } from "./run-chaos.ts";

// Should the test time out, its stack (broker, Redis, processes) still goes.
afterAll(stopChaosStacks);

test("a worker and the relay killed under load: nothing lost, duplicated or stuck, no 500", async () => {
  const result = await runChaos(SHORT, () => {});
  const report = renderReport(result);
  expect({ report, ok: result.ok }).toEqual({ report, ok: true });
  expect(result.final.accepted).toBeGreaterThan(0);
  expect(result.phases.map((p) => p.name)).toEqual(["baseline", "SIGKILL worker-1", "SIGKILL status-relay"]);
  for (const phase of result.phases) expect(phase.verdict.accepted).toBeGreaterThan(0);
  const f = result.final;
  expect([f.lost, f.duplicated, f.stuck, f.watcherFaults, f.missingImages, f.refusedTraces, f.errors500]).toEqual([
    [],
    [],
    [],
    [],
    [],
    [],
    0,
  ]);
}, 480_000);
