/**
 * `npm start`: the whole pipeline on this machine — Kafka, Redis, the topics, then the Kafka
 * REST gateway, the Redis REST bridge, the status relay, the history writer, PROCESSING_WORKER_INSTANCES workers and
 * the edge — and prints where to open it. Ctrl-C stops the pipeline (Kafka and Redis keep running).
 */
import { join } from "node:path";
import { parseConfig } from "../shared/config/parse-config.ts";
import { createRedis } from "../worker/redis/redis-client.ts";
import { ensureBridgeUser } from "../worker/redis-bridge/bridge-user.ts";
import { loggerFor } from "../worker/runtime/entry.ts";
import { createSupervisor } from "../worker/runtime/supervisor.ts";
import { ENV_FILE, ensureEnvFile, readEnvFile } from "./env-file.ts";
import { stackUp } from "./local-stack.ts";
import { ROOT } from "./paths.ts";

for (const line of ensureEnvFile()) console.log(`env: ${line}`);
// The shell's environment wins over .env, as it does for every Bun process.
const env: Record<string, string> = { ...readEnvFile(ENV_FILE), ...(process.env as Record<string, string>) };
const config = parseConfig(env, [
  "edge",
  "worker",
  "kafkaRest",
  "redisRest",
  "redisBridge",
  "redis",
  "keys",
  "public",
  "log",
]);
await stackUp(env, { topics: true });
// The Redis REST bridge logs in as its own ACL user, confined to the key prefix: (re)create it.
const admin = await createRedis(config.redis.url, { name: "npm-start" });
await ensureBridgeUser(admin, { ...config.redisBridge, prefix: config.keys.redisPrefix }).finally(() => admin.close());
console.log(`redis: bridge user ${config.redisBridge.username} limited to keys ${config.keys.redisPrefix}*`);

const logger = loggerFor(config, "npm-start");
const supervisor = createSupervisor(logger, { stopGraceMs: config.worker.shutdownGraceMs + 10_000 });
const bun = (file: string) => [process.execPath, join(ROOT, file)];
supervisor.start({ name: "kafka-rest-gateway", cmd: bun("worker/gateway/main.ts"), env });
supervisor.start({ name: "redis-rest-bridge", cmd: bun("worker/redis-bridge/main.ts"), env });
supervisor.start({ name: "status-relay", cmd: bun("worker/relay/main.ts"), env });
supervisor.start({ name: "history-writer", cmd: bun("worker/history/main.ts"), env });
for (let i = 1; i <= config.worker.instances; i++)
  supervisor.start({ name: `worker-${i}`, cmd: bun("worker/main.ts"), env: { ...env, WORKER_INSTANCE: String(i) } });
supervisor.start({ name: "edge", cmd: bun("edge/entry-bun.ts"), env });

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
} catch (error) {
  console.error((error as Error).message);
  await supervisor.stop();
  process.exit(1);
}
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const em = (text: string) => (colour ? `\x1b[1;32m${text}\x1b[0m` : text);
console.log(`
${em("Pixel Studio pipeline is running.")}
  Studio (open this)   ${em(`http://localhost:${config.edge.port}/`)}
  API                  http://localhost:${config.edge.port}/api/generations   (token: npm run token -- <user-id>)
  Worker HTTP + WS     ${config.public.wsUrl}  (/ws/… /events/… /images/… /healthz)
  Worker internal      http://127.0.0.1:${config.worker.internalPort}  (/metrics /readyz; never publish it)
  Kafka REST gateway   ${config.kafkaRest.url}
  Redis REST bridge    ${config.redisRest.url}
  ${config.worker.instances} worker instance(s), up to ${config.worker.maxConcurrent} generations each, provider ${config.worker.provider}
Ctrl-C stops the pipeline; npm run stack:down stops Kafka and Redis.
`);
