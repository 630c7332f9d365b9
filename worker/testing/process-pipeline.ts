/**
 * The whole pipeline as real processes — the set `npm start` runs (infrastructure/pipeline-processes.ts)
 * — on the real broker and Redis with fresh topic, group and key names, free ports, and every
 * metrics listener on a free port, each found from its `metrics listening` log line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { pipelineProcesses } from "../../infrastructure/pipeline-processes.ts";
import { topicSpecs } from "../../shared/topics.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import { ensureTopics } from "../kafka/topic-admin.ts";
import { createRedis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { ensureBridgeUser } from "../redis-bridge/bridge-user.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "./kafka-test-env.ts";

/**
 * A port free now, below the kernel's ephemeral range (32768 and up): a port picked by binding 0
 * is one that outgoing connections (Kafka, Redis) may take before the process listens on it.
 */
export function freePort(): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
      return port;
    } catch {
      // Taken: try another.
    }
  }
}

export const secret = () => crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "");

/** Polls `check` (a throw counts as not yet) until it holds; throws after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await Bun.sleep(100);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}
export const answers = (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok);

/**
 * The environment `npm start` gives the pipeline's processes, on `brokers` and `redisUrl`: fresh
 * secrets, free loopback ports, images and the history database in `dir`, every metrics listener
 * on a free port. The bridge's ACL user must exist already.
 */
export function pipelineEnv(options: {
  brokers: string;
  redisUrl: string;
  bridgeUser: { username: string; password: string };
  dir: string;
  workers: number;
}) {
  const ports = {
    edge: freePort(),
    ws: freePort(),
    internal: freePort(),
    rest: freePort(),
    bridge: freePort(),
    ops: freePort(),
  };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    LOG_FORMAT: "json",
    LOG_LEVEL: "info",
    KAFKA_BROKERS: options.brokers,
    REDIS_URL: options.redisUrl,
    AUTH_JWT_SECRET: secret(),
    KAFKA_REST_PASSWORD: secret(),
    KAFKA_REST_PORT: String(ports.rest),
    KAFKA_REST_URL: `http://127.0.0.1:${ports.rest}`,
    UPSTASH_REDIS_REST_TOKEN: secret(),
    REDIS_BRIDGE_USERNAME: options.bridgeUser.username,
    REDIS_BRIDGE_PASSWORD: options.bridgeUser.password,
    REDIS_REST_PORT: String(ports.bridge),
    UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${ports.bridge}`,
    EDGE_PORT: String(ports.edge),
    OPS_PORT: String(ports.ops),
    WS_PORT: String(ports.ws),
    WORKER_INTERNAL_PORT: String(ports.internal),
    WORKER_URL: `http://127.0.0.1:${ports.internal}`,
    PUBLIC_WS_URL: `ws://127.0.0.1:${ports.ws}`,
    PUBLIC_IMAGE_URL: `http://127.0.0.1:${ports.ws}/images`,
    STUDIO_ORIGIN: `http://127.0.0.1:${ports.edge}`,
    IMAGE_STORE_DIR: join(options.dir, "images"),
    DATABASE_URL: `file:${join(options.dir, "history.sqlite")}`,
    METRICS_PORT: "0",
    PROCESSING_WORKER_INSTANCES: String(options.workers),
  };
  return { env, ports };
}

/** Until every worker is in `group`, rebalanced: a request submitted now is not redelivered by a late join. */
export async function untilWorkersJoined(kafka: Kafka, group: string, workers: number, timeoutMs?: number) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await until(
      "every worker in the consumer group",
      async () => {
        const [found] = (await admin.describeGroups([group])).groups;
        return found?.state === "Stable" && found.members.length === workers;
      },
      timeoutMs,
    );
  } finally {
    await admin.disconnect();
  }
}

export async function startProcessPipeline(options: { workers?: number; env?: Record<string, string> } = {}) {
  const workers = options.workers ?? 2;
  const run = crypto.randomUUID().slice(0, 8);
  const kafkaConfig = freshKafkaConfig({
    KAFKA_RELAY_GROUP: `test-${run}-relay`,
    KAFKA_HISTORY_GROUP: `test-${run}-history`,
  });
  const admin = testKafka(kafkaConfig).admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(topicSpecs(kafkaConfig)));
  await admin.disconnect();
  const prefix = freshPrefix();
  const dir = mkdtempSync(join(tmpdir(), "pipeline-processes-"));
  // The bridge logs in as its own ACL user, confined to this run's keys, as npm start sets it up.
  const bridgeUser = { username: `test-bridge-${run}`, password: secret() };
  const redisAdmin = await createRedis(TEST_REDIS_URL);
  await ensureBridgeUser(redisAdmin, { ...bridgeUser, prefix }).finally(() => redisAdmin.close());
  const base = pipelineEnv({ brokers: "127.0.0.1:9092", redisUrl: TEST_REDIS_URL, bridgeUser, dir, workers });
  const { ports } = base;
  const env: Record<string, string> = {
    ...base.env,
    KAFKA_TOPIC_PREFIX: kafkaConfig.topicPrefix,
    KAFKA_CLIENT_ID: kafkaConfig.clientId,
    KAFKA_CONSUMER_GROUP: kafkaConfig.consumerGroup,
    KAFKA_RELAY_GROUP: kafkaConfig.relayGroup,
    KAFKA_HISTORY_GROUP: kafkaConfig.historyGroup,
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    REDIS_KEY_PREFIX: prefix,
    SHUTDOWN_GRACE_MS: "5000",
    ...options.env,
  };

  const children = new Map<string, Subprocess<"ignore", "pipe", "inherit">>();
  const metricsUrls = new Map<string, string>();
  const logs = new Map<string, Record<string, unknown>[]>();
  const follow = async (name: string, stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        logs.get(name)?.push(record);
        if (record.msg === "metrics listening") metricsUrls.set(name, String(record.metricsUrl));
      }
    }
  };
  for (const spec of pipelineProcesses(env, workers)) {
    const child = Bun.spawn(spec.cmd, {
      cwd: dir,
      env: { ...env, ...spec.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
    });
    children.set(spec.name, child);
    logs.set(spec.name, []);
    void follow(spec.name, child.stdout);
  }

  const pipeline = {
    env,
    prefix,
    kafkaConfig,
    jwtSecret: env.AUTH_JWT_SECRET ?? "",
    edgeUrl: `http://127.0.0.1:${ports.edge}`,
    opsUrl: `http://127.0.0.1:${ports.ops}`,
    workerUrl: `http://127.0.0.1:${ports.ws}`,
    workerInternalUrl: `http://127.0.0.1:${ports.internal}`,
    /** Process name (as pipelineProcesses names it) → its metrics URL. */
    metricsUrls,
    logs,
    children,
    async stop(): Promise<void> {
      for (const child of children.values()) child.kill("SIGTERM");
      await Promise.all(
        [...children.values()].map((c) => Promise.race([c.exited, Bun.sleep(15_000).then(() => c.kill("SIGKILL"))])),
      );
      const redis = await createRedis(TEST_REDIS_URL);
      await deleteKeys(redis, prefix).catch(() => {});
      await redis.send("ACL", ["DELUSER", bridgeUser.username]).catch(() => {});
      redis.close();
      await deleteTestTopics(kafkaConfig);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await until("every process listening for metrics", () => metricsUrls.size === children.size);
    await until("the workers ready", () => answers(`${pipeline.workerInternalUrl}/readyz`));
    await until("the edge healthy", () => answers(`${pipeline.edgeUrl}/healthz`));
    await until("the console up", () => answers(`${pipeline.opsUrl}/ops/login`));
    await untilWorkersJoined(testKafka(kafkaConfig), kafkaConfig.consumerGroup, workers);
  } catch (error) {
    await pipeline.stop();
    throw error;
  }
  return pipeline;
}
export type ProcessPipeline = Awaited<ReturnType<typeof startProcessPipeline>>;
