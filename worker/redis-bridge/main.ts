/**
 * The local Upstash-compatible Redis REST bridge: what the edge's @upstash/redis talks to when
 * Redis is ours rather than Upstash's. Binds LISTEN_HOST (loopback by default). Connects as its
 * own Redis ACL user (REDIS_BRIDGE_USERNAME, confined to REDIS_KEY_PREFIX: bridge-user.ts).
 */
import { errorMessage } from "../../shared/errors.ts";
import { createRedis } from "../redis/redis-client.ts";
import { configOrExit, loggerFor } from "../runtime/entry.ts";
import { httpMetrics } from "../runtime/http-metrics.ts";
import { beatToSupervisor } from "../runtime/liveness.ts";
import { startProcessMetrics } from "../runtime/metrics-server.ts";
import { bridgeRedisUrl } from "./bridge-user.ts";
import { createRedisRestBridge } from "./redis-rest-bridge.ts";

const config = configOrExit(process.env, ["redis", "redisRest", "redisBridge", "listen", "metrics"]);
const logger = loggerFor(config, "redis-bridge");
const { metrics, stop: stopMetrics } = startProcessMetrics(config.metrics, "redis-rest-bridge", logger);
const redisUrl = bridgeRedisUrl(config.redis.url, config.redisBridge);

const redis = await createRedis(redisUrl, { name: "redis-bridge" }).catch((error) => {
  console.error(`Redis bridge cannot start: ${errorMessage(error)}`);
  process.exit(1);
});
const bridge = createRedisRestBridge({
  redis,
  openTransactionConnection: () => createRedis(redisUrl, { name: "redis-bridge-tx" }),
  token: config.redisRest.token,
  logger,
  observe: httpMetrics(metrics),
});
const server = Bun.serve({ port: config.redisRest.port, hostname: config.listen.host, fetch: bridge.app.fetch });
logger.info("redis bridge listening", { url: `http://${config.listen.host}:${server.port}` });
beatToSupervisor();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("redis bridge stopping", { signal });
  // In-flight requests finish first; only then are their connections closed.
  await server.stop();
  bridge.close();
  stopMetrics();
  redis.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
