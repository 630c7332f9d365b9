/**
 * `npm start`: the whole pipeline on this machine — Kafka, Redis, the topics, then the Kafka
 * REST gateway, the Redis REST bridge, the status relay, the history writer, PROCESSING_WORKER_INSTANCES workers,
 * the operations console and the edge — and prints where to open it. Ctrl-C stops the pipeline (Kafka and Redis keep running).
 */
import { parseConfig } from "../shared/config/parse-config.ts";
import { createRedis } from "../worker/redis/redis-client.ts";
import { ensureBridgeUser } from "../worker/redis-bridge/bridge-user.ts";
import { loggerFor } from "../worker/runtime/entry.ts";
import { metricsPort } from "../worker/runtime/metrics-server.ts";
import { createPipelineSupervisor } from "../worker/runtime/pipeline-supervisor.ts";
import { ENV_FILE, ensureEnvFile, readEnvFile } from "./env-file.ts";
import { stackUp } from "./local-stack.ts";
import { pipelineProcesses } from "./pipeline-processes.ts";

for (const line of ensureEnvFile()) console.log(`env: ${line}`);
// The shell's environment wins over .env, as it does for every Bun process.
const env: Record<string, string> = { ...readEnvFile(ENV_FILE), ...(process.env as Record<string, string>) };
const config = parseConfig(env, [
  "edge",
  "kafka",
  "worker",
  "kafkaRest",
  "redisRest",
  "redisBridge",
  "redis",
  "keys",
  "public",
  "log",
  "ops",
  "metrics",
]);
await stackUp(env, { topics: true });
// The Redis REST bridge logs in as its own ACL user, confined to the key prefix: (re)create it.
const admin = await createRedis(config.redis.url, { name: "npm-start" });
await ensureBridgeUser(admin, { ...config.redisBridge, prefix: config.keys.redisPrefix }).finally(() => admin.close());
console.log(`redis: bridge user ${config.redisBridge.username} limited to keys ${config.keys.redisPrefix}*`);

const logger = loggerFor(config, "npm-start");
const supervisor = createPipelineSupervisor(config, logger);
for (const spec of pipelineProcesses(env, config.worker.instances)) supervisor.start(spec);

async function waitFor(url: string, what: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await Bun.sleep(250);
  }
  throw new Error(`${what} did not become ready at ${url}`);
}

const stop = () => void supervisor.stop().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

try {
  await waitFor(`http://127.0.0.1:${config.worker.internalPort}/readyz`, "the workers");
  await waitFor(`http://127.0.0.1:${config.edge.port}/healthz`, "the edge");
  await waitFor(`http://127.0.0.1:${config.ops.port}/ops/login`, "the operations console");
} catch (error) {
  console.error((error as Error).message);
  await supervisor.stop();
  process.exit(1);
}
function metricsAddresses(): string {
  const base = config.metrics.port;
  if (base === 0) return "on free ports (METRICS_PORT=0); each process logs its metricsUrl";
  const w = (i: number) => metricsPort(base, "worker", i);
  return `${config.metrics.host}:${base}–${base + 6} (one per process), workers ${w(1)}–${w(config.worker.instances)}; see docs/operations.md`;
}
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const em = (text: string) => (colour ? `\x1b[1;32m${text}\x1b[0m` : text);
console.log(`
${em("Pixel Studio pipeline is running.")}
  Studio (open this)   ${em(`http://localhost:${config.edge.port}/`)}
  API                  http://localhost:${config.edge.port}/api/generations   (token: npm run token -- <user-id>)
  Worker HTTP + WS     ${config.public.wsUrl}  (/ws/… /events/… /images/… /healthz)
  Worker internal      http://127.0.0.1:${config.worker.internalPort}  (/metrics /readyz; never publish it)
  Operations console   ${em(`http://localhost:${config.ops.port}/ops`)}   (token: npm run token -- --admin ops)
  Metrics              ${metricsAddresses()}
  Kafka REST gateway   ${config.kafkaRest.url}
  Redis REST bridge    ${config.redisRest.url}
  ${config.worker.instances} worker instance(s), up to ${config.worker.maxConcurrent} generations each, provider ${config.worker.provider}
Ctrl-C stops the pipeline; npm run stack:down stops Kafka and Redis.
`);
