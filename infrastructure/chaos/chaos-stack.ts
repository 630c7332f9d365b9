/**
 * The chaos suite's own stack: a private KRaft broker and Redis (free ports, a temporary
 * folder), the topics, the bridge's ACL user, then the pipeline's processes as `npm start` runs
 * them (infrastructure/pipeline-processes.ts) under the same supervisor (pipeline-supervisor.ts) — plus a WebSocket server
 * of its own, which the watchers use, so it can be killed on its own. Nothing shared is touched.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { mintApiToken } from "../../edge/auth.ts";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { errorMessage } from "../../shared/errors.ts";
import { createLogger } from "../../shared/logger.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createKafka } from "../../worker/kafka/kafka-client.ts";
import { ensureTopics } from "../../worker/kafka/topic-admin.ts";
import { createRedis } from "../../worker/redis/redis-client.ts";
import { ensureBridgeUser } from "../../worker/redis-bridge/bridge-user.ts";
import { createPipelineSupervisor } from "../../worker/runtime/pipeline-supervisor.ts";
import { startPrivateRedis } from "../../worker/testing/private-redis.ts";
import {
  answers,
  freePort,
  pipelineEnv,
  secret,
  until,
  untilWorkersJoined,
} from "../../worker/testing/process-pipeline.ts";
import { startPrivateKafka } from "../kafka/private-kafka.ts";
import { ROOT } from "../paths.ts";
import { pipelineProcesses } from "../pipeline-processes.ts";

export interface StackOptions {
  workers: number;
  users: number;
  /** A folder the pipeline's and the broker's logs are copied to when the stack stops. */
  keepLogsIn?: string;
  /** Overrides of the pipeline's configuration (the full run keeps the defaults). */
  env?: Record<string, string>;
  /** How long each part of the pipeline has to come up; default 120 s. */
  readyWithinMs?: number;
  log(line: string): void;
}

/** Every stack not yet stopped, so a test that timed out can still stop what it started. */
const running = new Set<() => Promise<void>>();

export async function stopChaosStacks(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}

export async function startChaosStack(options: StackOptions) {
  const dir = mkdtempSync(join(tmpdir(), "chaos-"));
  const logFile = join(dir, "pipeline.log");
  const output = openSync(logFile, "a");
  const cleanups: (() => Promise<void> | void)[] = [
    () => closeSync(output),
    () => rmSync(dir, { recursive: true, force: true }),
    () => {
      const keep = options.keepLogsIn;
      if (!keep) return;
      mkdirSync(keep, { recursive: true });
      const stamp = basename(dir);
      copyFileSync(logFile, join(keep, `${stamp}-pipeline.log`));
      if (existsSync(join(dir, "kafka", "kafka.log")))
        copyFileSync(join(dir, "kafka", "kafka.log"), join(keep, `${stamp}-kafka.log`));
    },
  ];
  const stop = async () => {
    running.delete(stop);
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
  };
  // Ctrl-C or a test runner's SIGTERM still stops the broker, Redis and the pipeline it started.
  const interrupted = () => void stop().then(() => process.exit(130));
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  running.add(stop);
  try {
    const servers = [
      startPrivateKafka({ dir: join(dir, "kafka"), log: options.log }),
      startPrivateRedis({ persistent: true }),
    ] as const;
    // Registered before they are up: a stop (Ctrl-C, a test's clean-up) that comes while the
    // broker is still starting waits for both and stops each that started, so none outlives us.
    cleanups.push(async () => {
      for (const started of await Promise.allSettled(servers))
        if (started.status === "fulfilled") await started.value.stop();
    });
    const [brokerStart, redisStart] = await Promise.allSettled(servers);
    if (brokerStart.status === "rejected") throw brokerStart.reason;
    if (redisStart.status === "rejected") throw redisStart.reason;
    if (!running.has(stop)) throw new Error("the chaos stack was stopped while it started");
    const [broker, redis] = [brokerStart.value, redisStart.value];
    const bridgeUser = { username: "chaos-bridge", password: secret() };
    const base = pipelineEnv({
      brokers: broker.brokers,
      redisUrl: redis.url,
      bridgeUser,
      dir,
      workers: options.workers,
    });
    const live = freePort();
    const env: Record<string, string> = {
      ...base.env,
      // Watchers go to the WebSocket server of its own; images come from the workers.
      PUBLIC_WS_URL: `ws://127.0.0.1:${live}`,
      // All load comes from one address and a few users: the abuse limits are not under test.
      RATE_LIMIT_PER_MINUTE: "100000",
      READS_PER_IP_PER_MINUTE: "100000",
      WS_MAX_SOCKETS_PER_USER: "10000",
      WS_MAX_SOCKETS_PER_IP: "100000",
      ...options.env,
    };
    const config = parseConfig(env, ["kafka", "redis", "keys", "worker", "edge"]);
    const topics = topicSpecs(config.kafka);
    const quiet = createLogger({ level: "error", sink: () => {} });
    const kafka = createKafka({ config: config.kafka, logger: quiet, retries: 5 });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, Object.values(topics)).finally(() => admin.disconnect());

    const redisAdmin = await createRedis(redis.url);
    await ensureBridgeUser(redisAdmin, { ...bridgeUser, prefix: config.keys.redisPrefix });
    // Saved to the ACL file, so the bridge can still log in after the Redis restart.
    await redisAdmin.send("ACL", ["SAVE"]).finally(() => redisAdmin.close());

    const logger = createLogger({
      level: "info",
      format: "json",
      sink: (_level, line) => writeSync(output, `${line}\n`),
      fields: { component: "chaos-supervisor" },
    });
    // The supervisor `npm start` runs the pipeline under (takeover of dead and hung processes).
    const supervisor = createPipelineSupervisor(config, logger, {
      stopGraceMs: 15_000,
      output,
      // The pipeline's defaults and these ports, whatever the checkout's `.env` configures.
      isolatedIn: dir,
    });
    cleanups.push(() => supervisor.stop());
    // A stop that came during the steps above has run its clean-ups already: start nothing.
    if (!running.has(stop)) throw new Error("the chaos stack was stopped while it started");
    const specs = pipelineProcesses(env, options.workers).filter((s) => s.name !== "ops-console");
    specs.push({
      name: "websocket",
      cmd: [process.execPath, join(ROOT, "worker/ws/main.ts")],
      env: { ...env, WS_PORT: String(live) },
    });
    for (const spec of specs) supervisor.start(spec);

    const edgeUrl = `http://127.0.0.1:${base.ports.edge}`;
    const ready = options.readyWithinMs ?? 120_000;
    await until("the workers ready", () => answers(`http://127.0.0.1:${base.ports.internal}/readyz`), ready);
    await until("the edge healthy", () => answers(`${edgeUrl}/healthz`), ready);
    await until("the WebSocket server up", () => answers(`http://127.0.0.1:${live}/healthz`), ready);
    await untilWorkersJoined(kafka, config.kafka.consumerGroup, options.workers, ready);

    const run = crypto.randomUUID().slice(0, 8);
    const tokens = new Map<string, string>();
    for (let i = 0; i < options.users; i++) {
      const user = `chaos-${run}-${i}`;
      tokens.set(user, await mintApiToken(user, env.AUTH_JWT_SECRET ?? "", 4 * 3600));
    }
    return { dir, logFile, env, config, topics, kafka, broker, redis, supervisor, edgeUrl, tokens, run, stop };
  } catch (error) {
    // Read before the stop removes the folder: a stack that never came up says why in the error
    // itself (a CI log keeps nothing else of it).
    const why = problemsLogged(logFile);
    await stop();
    if (!why) throw error;
    throw new Error(`${errorMessage(error)}\nthe pipeline's last warnings and errors:\n${why}`, { cause: error });
  }
}

/** The last warnings and errors of the pipeline's log, one JSON line each; empty if none. */
function problemsLogged(logFile: string, count = 25): string {
  if (!existsSync(logFile)) return "";
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => /"level":"(warn|error)"/.test(line))
    .slice(-count)
    .map((line) => line.slice(0, 600))
    .join("\n");
}
export type ChaosStack = Awaited<ReturnType<typeof startChaosStack>>;
