/**
 * Both products as they are deployed locally, each process a real Bun process of its own, on the
 * shared broker and Redis with fresh topics, groups, key prefixes and ports (all removed on stop).
 *
 * Ours: `npm start`'s layout, the list infrastructure/pipeline-processes.ts keeps — Kafka REST
 * gateway, Redis REST bridge, status relay (with webhooks), history writer, N workers (public and
 * internal ports shared through SO_REUSEPORT), the operations console and the edge. The twin: the
 * Redis REST bridge (the edge's rate limit, idempotency and snapshot go through Upstash REST on
 * both sides), the edge with `queue.add`, and N BullMQ workers laid out as ours (bench/twin/).
 * (worker/testing/process-pipeline.ts starts ours the same way for tests; the bench keeps its own
 * launcher for the CPU profiler's flags, quiet logs and per-process CPU.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { mintApiToken } from "../edge/auth.ts";
import { ROOT } from "../infrastructure/paths.ts";
import { pipelineProcesses } from "../infrastructure/pipeline-processes.ts";
import { topicSpecs } from "../shared/topics.ts";
import { ensureTopics } from "../worker/kafka/topic-admin.ts";
import { createRedis } from "../worker/redis/redis-client.ts";
import { deleteKeys, TEST_REDIS_URL } from "../worker/redis/redis-test-env.ts";
import { createTestBridgeUser, type TestBridgeUser } from "../worker/redis-bridge/bridge-test-server.ts";
import type { ChildSpec } from "../worker/runtime/supervisor.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../worker/testing/kafka-test-env.ts";
import { onInterrupt } from "./on-interrupt.ts";
import { cpuSeconds, freePort } from "./processes.ts";

export type Product = "ours" | "twin";

export interface StackOptions {
  /** Worker processes (PROCESSING_WORKER_INSTANCES). */
  workers: number;
  /** MAX_CONCURRENT_GENERATIONS per worker. */
  maxConcurrent: number;
  /** Run every process under Bun's CPU profiler, writing `<name>.cpuprofile` (and `.md`) here on exit. */
  profileDir?: string;
  /**
   * Ours only: "direct" runs bench/direct/edge.ts (the edge producing to Kafka itself, option
   * 3(d)) and no REST gateway, instead of `npm start`'s edge and gateway.
   */
  edge?: "rest" | "direct";
}

export interface Stack {
  product: Product;
  edgeUrl: string;
  /** Where browsers open WebSockets (PUBLIC_WS_URL): the workers' shared port. */
  wsUrl: string;
  jwtSecret: string;
  /** The environment its processes run with (topic prefix, key prefix, ports, secrets). */
  env: Readonly<Record<string, string>>;
  /** The product's processes by name: what its CPU is summed over. */
  pids(): Record<string, number>;
  /** When each process was spawned (epoch ms): where its CPU profile's clock starts. */
  spawnedAt(): Record<string, number>;
  /** CPU seconds every process of the product has used so far. */
  cpu(): number;
  token(userId: string): Promise<string>;
  stop(): Promise<void>;
}

const secret = () => crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "");
const script = (file: string) => join(ROOT, file);

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs / 1000} s`);
    await Bun.sleep(100);
  }
}
const answers = (url: string) => () => fetch(url).then((r) => r.ok);

/**
 * What both products share: secrets, ports, the edge's settings, an image folder, and the Redis
 * REST bridge's own ACL user confined to the key prefix (as `npm start` creates it).
 */
async function commonEnv(options: StackOptions, run: string, dir: string) {
  const ports = {
    edge: freePort(),
    ws: freePort(),
    internal: freePort(),
    bridge: freePort(),
    rest: freePort(),
    ops: freePort(),
  };
  const prefix = `bench-${run}:`;
  const bridgeUser = await createTestBridgeUser(prefix);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    LOG_LEVEL: "error",
    LOG_FORMAT: "json",
    LISTEN_HOST: "127.0.0.1",
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    REDIS_BRIDGE_USERNAME: bridgeUser.username,
    REDIS_BRIDGE_PASSWORD: bridgeUser.password,
    AUTH_JWT_SECRET: secret(),
    KAFKA_REST_PASSWORD: secret(),
    UPSTASH_REDIS_REST_TOKEN: secret(),
    KAFKA_REST_PORT: String(ports.rest),
    KAFKA_REST_URL: `http://127.0.0.1:${ports.rest}`,
    REDIS_REST_PORT: String(ports.bridge),
    UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${ports.bridge}`,
    EDGE_PORT: String(ports.edge),
    OPS_PORT: String(ports.ops),
    // Every process's metrics listener on a free port, not the fixed ones `npm start` uses.
    METRICS_PORT: "0",
    WS_PORT: String(ports.ws),
    WORKER_INTERNAL_PORT: String(ports.internal),
    WORKER_URL: `http://127.0.0.1:${ports.internal}`,
    // Every bench client connects from 127.0.0.1: the per-address cap would refuse most of 1,000 sockets.
    WS_MAX_SOCKETS_PER_IP: "1000000",
    PUBLIC_WS_URL: `ws://127.0.0.1:${ports.ws}`,
    PUBLIC_IMAGE_URL: `http://127.0.0.1:${ports.ws}/images`,
    STUDIO_ORIGIN: `http://127.0.0.1:${ports.edge}`,
    IMAGE_STORE_DIR: join(dir, "images"),
    DATABASE_URL: `file:${join(dir, "history.sqlite")}`,
    MAX_CONCURRENT_GENERATIONS: String(options.maxConcurrent),
    // The sliding-window limits run on every call; they are only set high enough not to refuse the
    // bench, whose clients all share 127.0.0.1.
    RATE_LIMIT_PER_MINUTE: "1000000",
    READS_PER_IP_PER_MINUTE: "10000000",
    ANONYMOUS_SUBMITS_PER_IP_PER_MINUTE: "1000000",
    SESSIONS_PER_IP_PER_HOUR: "1000000",
    // The cap still counts every submit (its Redis script runs), but 64 callers of 8 users with no
    // workers (the submit rows) would otherwise be refused after 20 each.
    MAX_IN_FLIGHT_PER_USER: "1000000",
  };
  return { env, ports, bridgeUser };
}

function launcher(env: Record<string, string>, dir: string, profileDir: string | undefined) {
  const children = new Map<string, Subprocess>();
  const spawnedAt: Record<string, number> = {};
  return {
    spawnedAt: () => ({ ...spawnedAt }),
    /** `cmd` is `[bun, script, …args]`; the profiler's flags go between bun and the script. */
    spawn({ name, cmd: [bun = process.execPath, ...args], env: own }: ChildSpec) {
      const profile = profileDir
        ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}`]
        : [];
      spawnedAt[name] = Date.now();
      children.set(
        name,
        Bun.spawn([bun, ...profile, ...args], {
          cwd: dir,
          env: { ...env, ...own },
          stdin: "ignore",
          stdout: "inherit",
          stderr: "inherit",
        }),
      );
    },
    pids: () => Object.fromEntries([...children].map(([name, child]) => [name, child.pid])),
    /** CPU seconds of the running children (one that died counts nothing: its failures show in the rows). */
    cpu(): number {
      let total = 0;
      for (const child of children.values()) total += child.exitCode === null ? cpuSeconds(child.pid) : 0;
      return total;
    },
    /** SIGTERM to all, in reverse start order, as the supervisor does; SIGKILL after 10 s. */
    async stop() {
      for (const child of [...children.values()].reverse()) {
        child.kill("SIGTERM");
        const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
        if (!exited) child.kill("SIGKILL");
      }
    },
  };
}

export async function startOurs(options: StackOptions): Promise<Stack> {
  const run = crypto.randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), "bench-ours-"));
  const kafkaConfig = freshKafkaConfig({
    KAFKA_TOPIC_PREFIX: `bench-${run}-`,
    KAFKA_CONSUMER_GROUP: `bench-${run}-workers`,
    KAFKA_RELAY_GROUP: `bench-${run}-relay`,
    KAFKA_HISTORY_GROUP: `bench-${run}-history`,
  });
  const admin = testKafka(kafkaConfig).admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(topicSpecs(kafkaConfig)));
  const { env, ports, bridgeUser } = await commonEnv(options, run, dir);
  Object.assign(env, {
    KAFKA_BROKERS: kafkaConfig.brokers.join(","),
    KAFKA_TOPIC_PREFIX: kafkaConfig.topicPrefix,
    KAFKA_CLIENT_ID: `bench-${run}`,
    KAFKA_CONSUMER_GROUP: kafkaConfig.consumerGroup,
    KAFKA_RELAY_GROUP: kafkaConfig.relayGroup,
    KAFKA_HISTORY_GROUP: kafkaConfig.historyGroup,
    // Validated (1–64) by every process that reads the worker section, the history writer too,
    // although only the launcher uses it; the submit phase runs no workers.
    PROCESSING_WORKER_INSTANCES: String(Math.max(1, options.workers)),
  });
  const procs = launcher(env, dir, options.profileDir);
  for (const spec of pipelineProcesses(env, options.workers)) {
    if (options.edge !== "direct") procs.spawn(spec);
    else if (spec.name === "edge") procs.spawn({ ...spec, cmd: [process.execPath, script("bench/direct/edge.ts")] });
    else if (spec.name !== "kafka-rest-gateway") procs.spawn(spec);
  }

  const groups = (
    [
      [kafkaConfig.consumerGroup, options.workers],
      [kafkaConfig.relayGroup, 1],
      [kafkaConfig.historyGroup, 1],
    ] as const
  ).filter(([, members]) => members > 0);
  const stable = async () => {
    const { groups: described } = await admin.describeGroups(groups.map(([id]) => id));
    return groups.every(([id, members]) => {
      const group = described.find((g) => g.groupId === id);
      return group?.state === "Stable" && group.members.length === members;
    });
  };
  const stop = stoppedOnInterrupt(async () => {
    await procs.stop();
    await admin.deleteGroups(groups.map(([id]) => id)).catch(() => {});
    await admin.disconnect();
    await deleteTestTopics(kafkaConfig);
    await cleanUp(env, bridgeUser, dir);
  });
  try {
    await until("our edge", answers(`http://127.0.0.1:${ports.edge}/healthz`));
    await until("our consumer groups", stable);
  } catch (error) {
    await stop();
    throw error;
  }
  return stackOf("ours", env, ports, procs, stop);
}

export async function startTwin(options: StackOptions): Promise<Stack> {
  const run = crypto.randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), "bench-twin-"));
  const { env, ports, bridgeUser } = await commonEnv(options, run, dir);
  const queue = [`twin-${run}`, "generations"];
  const procs = launcher(env, dir, options.profileDir);
  const bun = (file: string, ...args: string[]) => [process.execPath, script(file), ...args];
  procs.spawn({ name: "redis-rest-bridge", cmd: bun("worker/redis-bridge/main.ts") });
  for (let i = 1; i <= options.workers; i++)
    procs.spawn({ name: `worker-${i}`, cmd: bun("bench/twin/worker.ts", ...queue) });
  procs.spawn({ name: "edge", cmd: bun("bench/twin/edge.ts", ...queue) });
  const stop = stoppedOnInterrupt(async () => {
    await procs.stop();
    await dropKeys(`${queue[0]}:`);
    await cleanUp(env, bridgeUser, dir);
  });
  try {
    await until("the twin's edge", answers(`http://127.0.0.1:${ports.edge}/healthz`));
    if (options.workers > 0) await until("the twin's workers", answers(`http://127.0.0.1:${ports.internal}/readyz`));
  } catch (error) {
    await stop();
    throw error;
  }
  return stackOf("twin", env, ports, procs, stop);
}

async function cleanUp(env: Record<string, string>, bridgeUser: TestBridgeUser, dir: string): Promise<void> {
  await dropKeys(env.REDIS_KEY_PREFIX ?? "");
  await bridgeUser.drop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

async function dropKeys(prefix: string): Promise<void> {
  if (!prefix) return;
  const redis = await createRedis(TEST_REDIS_URL);
  try {
    await deleteKeys(redis, prefix);
  } finally {
    redis.close();
  }
}

/**
 * `stopStack` run once, whether the bench or an interrupt asks first; registered from the moment
 * the stack's processes exist, so an interrupt while it is still starting stops them too.
 */
function stoppedOnInterrupt(stopStack: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopStack().finally(() => forget());
    return stopping;
  };
  const forget = onInterrupt(stop);
  return stop;
}

function stackOf(
  product: Product,
  env: Record<string, string>,
  ports: { edge: number },
  procs: ReturnType<typeof launcher>,
  stop: () => Promise<void>,
): Stack {
  const jwtSecret = env.AUTH_JWT_SECRET ?? "";
  return {
    product,
    edgeUrl: `http://127.0.0.1:${ports.edge}`,
    wsUrl: env.PUBLIC_WS_URL ?? "",
    env,
    jwtSecret,
    pids: procs.pids,
    spawnedAt: procs.spawnedAt,
    cpu: procs.cpu,
    token: (userId) => mintApiToken(userId, jwtSecret),
    stop,
  };
}

export const startStack = (product: Product, options: StackOptions): Promise<Stack> =>
  product === "ours" ? startOurs(options) : startTwin(options);
