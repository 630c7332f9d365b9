/**
 * The WebSocket benchmark's clients, run as a child process so they never share an event loop
 * with the servers they measure (Bun's own WebSocket client).
 *
 * `watch <edgeUrl> <liveUrl> <users> <perGeneration> <warmupMs> <measureMs>` (env BENCH_JWT_SECRET):
 *   a closed loop per user: submit a generation through the edge, open `perGeneration` sockets on
 *   it, wait until the server closes them after the terminal event, submit again. Every `status`
 *   message received in the window is timed from its `at` (stamped by the worker just before it
 *   produced the event) to its arrival here, on the same machine clock. Prints `{"phase":"measuring"}`
 *   and `{"phase":"measured"}` when the window opens and closes, then a WatchResult.
 * `hold`: opens every WebSocket URL read from stdin (one per line), prints a HoldResult once each
 *   has its snapshot or failed, and keeps the sockets open until the process is killed.
 */
import { mintApiToken } from "../edge/auth.ts";
import type { Stage } from "../shared/job-states.ts";
import type { ServerMessage } from "../shared/ws-messages.ts";
import { percentile } from "./stats.ts";

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
export interface WatchResult {
  /** One entry per status message a socket received in the window. */
  latency: LatencySummary;
  /** The same, by the event's stage (started, rendering, …): where a tail comes from. */
  byStage: Partial<Record<Stage, LatencySummary>>;
  /** Distinct status events (generation, seq) those messages carried. */
  events: number;
  seconds: number;
  /** Generations whose sockets all closed within the window. */
  generations: number;
  submitFailures: number;
  /** Open sockets sampled every 100 ms during the window. */
  openSockets: { min: number; mean: number };
  /** Sockets closed, before the run ended, with another code than 1000 (which follows the terminal event). */
  abnormalCloses: number;
}
export interface HoldResult {
  sockets: number;
  snapshots: number;
  failed: number;
}

/** Concurrent handshakes: enough to open thousands of sockets quickly, few enough not to overflow the listen backlog. */
const HANDSHAKES = 200;
const SNAPSHOT_TIMEOUT_MS = 30_000;

function summarize(values: number[]): LatencySummary {
  const sorted = values.sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

async function watch(
  edgeUrl: string,
  liveUrl: string,
  users: number,
  perGeneration: number,
  warmupMs: number,
  measureMs: number,
) {
  const secret = process.env.BENCH_JWT_SECRET ?? "";
  const windowStart = Date.now() + warmupMs;
  const windowEnd = windowStart + measureMs;
  const latencies: number[] = [];
  const byStage = new Map<Stage, number[]>();
  const events = new Set<string>();
  let abnormalCloses = 0;
  const active = new Set<WebSocket>();
  const samples: number[] = [];
  let generations = 0;
  let submitFailures = 0;
  let stopping = false;

  const follow = (url: string) =>
    new Promise<void>((resolve) => {
      const socket = new WebSocket(url);
      socket.addEventListener("open", () => {
        if (stopping) socket.close(1000, "benchmark over");
        else active.add(socket);
      });
      socket.addEventListener("message", (event) => {
        const received = Date.now();
        const message = JSON.parse(String(event.data)) as ServerMessage;
        if (message.type === "status" && received >= windowStart && received < windowEnd) {
          const latency = received - Date.parse(message.at);
          latencies.push(latency);
          const stage = byStage.get(message.stage) ?? [];
          byStage.set(message.stage, stage);
          stage.push(latency);
          events.add(`${message.id}:${message.seq}`);
        }
      });
      socket.addEventListener("close", (event) => {
        active.delete(socket);
        if (event.code !== 1000 && !stopping) abnormalCloses++;
        resolve();
      });
    });

  const user = async (index: number) => {
    const authorization = `Bearer ${await mintApiToken(`bench-user-${index}`, secret)}`;
    while (!stopping) {
      const response = await fetch(`${edgeUrl}/api/generations`, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify({ prompt: `bench ${index}`, width: 256, height: 256, format: "webp" }),
      }).catch(() => null);
      if (response?.status !== 202) {
        submitFailures++;
        await Bun.sleep(100);
        continue;
      }
      const generation = (await response.json()) as { id: string; links: { events: string } };
      const query = new URL(generation.links.events).search;
      const url = `${liveUrl}/ws/generations/${generation.id}${query}`;
      await Promise.all(Array.from({ length: perGeneration }, () => follow(url)));
      const ended = Date.now();
      if (ended >= windowStart && ended < windowEnd) generations++;
    }
  };

  const running = Promise.all(Array.from({ length: users }, (_, i) => user(i)));
  await Bun.sleep(windowStart - Date.now());
  console.log(JSON.stringify({ phase: "measuring" }));
  const sampler = setInterval(() => samples.push(active.size), 100);
  await Bun.sleep(windowEnd - Date.now());
  clearInterval(sampler);
  console.log(JSON.stringify({ phase: "measured" }));
  stopping = true;
  for (const socket of active) socket.close(1000, "benchmark over");
  await running;
  const result: WatchResult = {
    latency: summarize(latencies),
    byStage: Object.fromEntries([...byStage].map(([stage, values]) => [stage, summarize(values)])),
    events: events.size,
    seconds: measureMs / 1000,
    generations,
    submitFailures,
    openSockets: {
      min: Math.min(...samples),
      mean: Math.round(samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)),
    },
    abnormalCloses,
  };
  console.log(JSON.stringify(result));
}

async function hold() {
  const urls = (await Bun.stdin.text()).split("\n").filter(Boolean);
  const result: HoldResult = { sockets: urls.length, snapshots: 0, failed: 0 };
  const open = (url: string) =>
    new Promise<void>((resolve) => {
      const socket = new WebSocket(url);
      let settled = false;
      const settle = (gotSnapshot: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (gotSnapshot) result.snapshots++;
        else result.failed++;
        resolve();
      };
      const timer = setTimeout(() => settle(false), SNAPSHOT_TIMEOUT_MS);
      socket.addEventListener(
        "message",
        (event) => settle((JSON.parse(String(event.data)) as ServerMessage).type === "snapshot"),
        { once: true },
      );
      socket.addEventListener("close", () => settle(false));
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: HANDSHAKES }, async () => {
      for (let url = urls[next++]; url !== undefined; url = urls[next++]) await open(url);
    }),
  );
  console.log(JSON.stringify(result));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "watch") {
  const [edgeUrl = "", liveUrl = "", ...numbers] = args;
  const [users = 200, perGeneration = 5, warmupMs = 5000, measureMs = 20_000] = numbers.map(Number);
  await watch(edgeUrl, liveUrl, users, perGeneration, warmupMs, measureMs);
  process.exit(0);
} else if (mode === "hold") {
  await hold();
} else {
  console.error("usage: ws-clients.ts watch <edgeUrl> <liveUrl> <users> <perGeneration> <warmupMs> <measureMs> | hold");
  process.exit(2);
}
