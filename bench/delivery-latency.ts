/**
 * Status delivery latency on the real path: worker → Kafka image.generation.status → status relay
 * → Redis (Lua, PUBLISH) → the live server's Redis subscription → WebSocket. The pipeline (edge,
 * Kafka REST gateway, Redis REST bridge, relay, workers) runs in this process through the test
 * harness, on fresh topics and keys; the live server and the clients each run in their own process.
 */
import { kafkaPid } from "../infrastructure/kafka/kafka-local.ts";
import type { Redis } from "../worker/redis/redis-client.ts";
import { startPipeline } from "../worker/testing/pipeline-harness.ts";
import { cpuSeconds, type LiveServer, lines, machineTicks, spawnBun, startLiveServer } from "./processes.ts";
import type { WatchResult } from "./ws-clients.ts";

const CLIENTS = new URL("./ws-clients.ts", import.meta.url).pathname;

export interface LatencyRun {
  sockets: number;
  /** Sockets per generation: a user with a few tabs open, and a fan-out per Redis message. */
  perGeneration: number;
  /** Worker instances and generations in flight per instance: together they set the event rate. */
  workers: number;
  inFlight: number;
  warmupMs: number;
  measureMs: number;
}

/**
 * Cores each process kept busy during the window (1 = one core), `other` what the rest of the
 * machine used (kernel, anything else running), and `machine` the share of all cores busy.
 */
export interface CpuShares {
  pipeline: number;
  live: number;
  clients: number;
  kafka: number;
  redis: number;
  other: number;
  machine: number;
}

async function redisPid(redis: Redis): Promise<number> {
  return Number(/process_id:(\d+)/.exec(String(await redis.send("INFO", ["server"])))?.[1] ?? 0);
}

export async function measureDeliveryLatency(run: LatencyRun): Promise<{ result: WatchResult; cpu: CpuShares }> {
  const pipeline = await startPipeline({
    workers: run.workers,
    maxConcurrent: run.inFlight,
    liveServers: 0,
    // Each bench user resubmits as soon as its generation ends; the per-user limit is not under test.
    edgeEnv: { RATE_LIMIT_PER_MINUTE: "1000000" },
  });
  let live: LiveServer | undefined;
  try {
    live = await startLiveServer({ prefix: pipeline.prefix, secret: pipeline.jwtSecret });
    const users = Math.ceil(run.sockets / run.perGeneration);
    const args = [pipeline.edgeUrl, live.url, users, run.perGeneration, run.warmupMs, run.measureMs].map(String);
    const child = spawnBun([CLIENTS, "watch", ...args], { BENCH_JWT_SECRET: pipeline.jwtSecret });
    const pids = [process.pid, live.pid, child.pid, kafkaPid() ?? 0, await redisPid(pipeline.redis)];
    const sample = () => ({
      cpu: pids.map((pid) => (pid ? cpuSeconds(pid) : 0)),
      machine: machineTicks(),
      at: performance.now(),
    });
    let start = sample();
    let cpu: CpuShares | undefined;
    let result: WatchResult | undefined;
    for await (const line of lines(child.stdout)) {
      const message = JSON.parse(line) as { phase?: string };
      if (message.phase === "measuring") start = sample();
      else if (message.phase === "measured") {
        const end = sample();
        const wall = (end.at - start.at) / 1000;
        const share = (i: number) => ((end.cpu[i] ?? 0) - (start.cpu[i] ?? 0)) / wall;
        const [pipelineCpu, liveCpu, clientsCpu, kafkaCpu, redisCpu] = pids.map((_, i) => share(i)) as number[];
        const machine = (end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total);
        const ours = pids.reduce((sum, _, i) => sum + share(i), 0);
        cpu = {
          pipeline: pipelineCpu ?? 0,
          live: liveCpu ?? 0,
          clients: clientsCpu ?? 0,
          kafka: kafkaCpu ?? 0,
          redis: redisCpu ?? 0,
          other: Math.max(0, machine * navigator.hardwareConcurrency - ours),
          machine,
        };
      } else result = message as WatchResult;
    }
    const code = await child.exited;
    if (!result || !cpu) throw new Error(`the client process ended without a result (exit ${code})`);
    return { result, cpu };
  } finally {
    await live?.stop();
    await pipeline.stop();
  }
}
