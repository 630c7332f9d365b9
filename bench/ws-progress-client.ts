/**
 * The client side of progress delivery, run in a child process: submits generations through
 * the edge on a fixed schedule, follows each on its WebSocket (`links.events`), and times every
 * `status` message from the `at` the worker stamped to its arrival here.
 */
import type { ServerMessage } from "../shared/ws-messages.ts";
import { planArgument, runInChild } from "./child.ts";
import { epochClock } from "./stats.ts";

export interface ProgressPlan {
  edgeUrl: string;
  token: string;
  count: number;
  intervalMs: number;
  body: Record<string, unknown>;
}

export interface ProgressResult {
  /** Milliseconds from each live status event's `at` to its arrival. */
  latencies: number[];
  completed: number;
  /** Status events stamped before this client held its snapshot: not live deliveries, left out. */
  beforeSnapshot: number;
}

export const runProgressClient = (plan: ProgressPlan) => runInChild<ProgressResult>(import.meta.path, plan);

async function follow(plan: ProgressPlan, now: () => number, latencies: number[]) {
  const response = await fetch(`${plan.edgeUrl}/api/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${plan.token}`, "content-type": "application/json" },
    body: JSON.stringify(plan.body),
  });
  const answer = (await response.json()) as { links?: { events: string } };
  if (response.status !== 202 || !answer.links) throw new Error(`submit answered ${response.status}`);
  const socket = new WebSocket(answer.links.events);
  let liveFrom = Number.POSITIVE_INFINITY;
  let beforeSnapshot = 0;
  let completed = false;
  socket.addEventListener("message", (event) => {
    const received = now();
    const message = JSON.parse(String(event.data)) as ServerMessage;
    if (message.type === "snapshot") liveFrom = Math.floor(received);
    else if (message.type === "completed") completed = true;
    else if (message.type === "status") {
      // `at` has millisecond resolution: an event stamped in a later millisecond than the
      // snapshot's arrival was certainly produced while this socket was live.
      const at = Date.parse(message.at);
      if (at > liveFrom) latencies.push(received - at);
      else beforeSnapshot++;
    }
  });
  const timer = setTimeout(() => socket.close(), 30_000);
  await new Promise((resolve) => socket.addEventListener("close", resolve));
  clearTimeout(timer);
  return { completed, beforeSnapshot };
}

async function run(plan: ProgressPlan): Promise<ProgressResult> {
  const now = epochClock();
  const latencies: number[] = [];
  const followed: ReturnType<typeof follow>[] = [];
  const started = performance.now();
  for (let i = 0; i < plan.count; i++) {
    const wait = started + i * plan.intervalMs - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    followed.push(follow(plan, now, latencies));
  }
  const results = await Promise.all(followed);
  return {
    latencies,
    completed: results.filter((r) => r.completed).length,
    beforeSnapshot: results.reduce((n, r) => n + r.beforeSnapshot, 0),
  };
}

if (import.meta.main) console.log(JSON.stringify(await run(planArgument<ProgressPlan>())));
