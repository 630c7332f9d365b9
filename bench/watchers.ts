/**
 * Progress delivery with many browser-like sockets: runs bench/ws-clients.ts `watch` against a
 * product's edge and WebSocket URL and returns its WatchResult. Each user (five sockets on its
 * current generation) resubmits when its generation ends, so the event rate is what the
 * product's workers can make.
 */
import { lines, spawnBun } from "./processes.ts";
import type { WatchResult } from "./ws-clients.ts";

const CLIENTS = new URL("./ws-clients.ts", import.meta.url).pathname;

export interface WatchPlan {
  edgeUrl: string;
  wsUrl: string;
  jwtSecret: string;
  sockets: number;
  perGeneration: number;
  warmupMs: number;
  measureMs: number;
}

export async function runWatchers(plan: WatchPlan): Promise<WatchResult> {
  const users = Math.ceil(plan.sockets / plan.perGeneration);
  const args = [plan.edgeUrl, plan.wsUrl, users, plan.perGeneration, plan.warmupMs, plan.measureMs].map(String);
  const child = spawnBun([CLIENTS, "watch", ...args], { BENCH_JWT_SECRET: plan.jwtSecret });
  let result: WatchResult | undefined;
  for await (const line of lines(child.stdout)) {
    const message = JSON.parse(line) as { phase?: string };
    if (!message.phase) result = message as WatchResult;
  }
  const code = await child.exited;
  if (!result) throw new Error(`the WebSocket clients ended without a result (exit ${code})`);
  return result;
}
