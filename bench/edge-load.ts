/**
 * Submissions through the edge's real HTTP API (`POST /api/generations`), run in a child
 * process. Open loop: requests leave on a fixed schedule whether or not earlier ones answered,
 * and latency counts from the scheduled time, so a stall shows up in the numbers instead of
 * silently slowing the load down (coordinated omission). Closed loop: `concurrency` callers
 * submit back to back, which finds the most the edge accepts per second.
 */
import { planArgument, runInChild } from "./child.ts";
import { type Summary, summarize } from "./stats.ts";

interface Common {
  edgeUrl: string;
  /** Bearer tokens of the bench users, used round-robin. */
  tokens: string[];
  body: Record<string, unknown>;
}
export type EdgeLoadPlan =
  | (Common & { mode: "open"; ratePerSecond: number; count: number })
  | (Common & { mode: "closed"; concurrency: number; durationMs: number });

export interface EdgeLoadResult {
  sent: number;
  accepted: number;
  /** Non-202 answers and network errors, by status (0 = no answer). */
  rejected: Record<string, number>;
  seconds: number;
  latency: Summary;
  /** Ids of accepted generations (open loop only). */
  ids: string[];
  /** Share of one core the client process used. */
  clientCpu: number;
}

export const runEdgeLoad = (plan: EdgeLoadPlan) => runInChild<EdgeLoadResult>(import.meta.path, plan);

async function load(plan: EdgeLoadPlan): Promise<EdgeLoadResult> {
  const latencies: number[] = [];
  const ids: string[] = [];
  const rejected: Record<string, number> = {};
  const body = JSON.stringify(plan.body);
  let sent = 0;

  const submit = async (from: number) => {
    const token = plan.tokens[sent++ % plan.tokens.length];
    let status = 0;
    try {
      const response = await fetch(`${plan.edgeUrl}/api/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
      status = response.status;
      const answer = (await response.json()) as { id?: string };
      if (status === 202) {
        latencies.push(performance.now() - from);
        if (plan.mode === "open" && answer.id) ids.push(answer.id);
        return;
      }
    } catch {
      // counted below as a rejection with its status (0 when there was no answer)
    }
    rejected[status] = (rejected[status] ?? 0) + 1;
  };

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  if (plan.mode === "open") {
    const interval = 1000 / plan.ratePerSecond;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < plan.count; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      inFlight.push(submit(due));
    }
    await Promise.all(inFlight);
  } else {
    const deadline = started + plan.durationMs;
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (performance.now() < deadline) await submit(performance.now());
      }),
    );
  }
  const seconds = plan.mode === "open" ? plan.count / plan.ratePerSecond : (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    sent,
    accepted: latencies.length,
    rejected,
    seconds,
    latency: summarize(latencies),
    ids,
    clientCpu: (cpu.user + cpu.system) / 1e6 / ((performance.now() - started) / 1000),
  };
}

if (import.meta.main) console.log(JSON.stringify(await load(planArgument<EdgeLoadPlan>())));
