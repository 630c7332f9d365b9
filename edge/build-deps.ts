import { type Env, parseConfig } from "../shared/config/parse-config.ts";
import { createLogger, resolveLogFormat } from "../shared/logger.ts";
import { redisKeys } from "../shared/redis-keys.ts";
import { topicSpecs } from "../shared/topics.ts";
import type { EdgeDeps } from "./edge-deps.ts";
import { createGenerationStore } from "./generation-store.ts";
import { createRestProducer } from "./kafka-rest-producer.ts";
import { syncGenerator } from "./sync-generation.ts";
import { createRateLimiter, createUpstashRedis } from "./upstash-clients.ts";

/**
 * Parses the edge's configuration and builds its clients; throws ConfigError on bad settings.
 * `terminal`: the process's output is a terminal (Bun and Deno can tell, a Worker cannot), for readable log lines.
 */
export function buildEdgeDeps(env: Env, output: { terminal?: boolean } = {}): EdgeDeps {
  const config = parseConfig(env, ["edge", "auth", "keys", "public", "kafkaRest", "redisRest", "kafka", "log"]);
  const redis = createUpstashRedis(config.redisRest);
  return {
    config,
    requestsTopic: topicSpecs(config.kafka).requests.name,
    store: createGenerationStore(redis, config.keys.redisPrefix),
    producer: createRestProducer(config.kafkaRest),
    rateLimiter: createRateLimiter(redis, {
      perMinute: config.edge.rateLimitPerMinute,
      prefix: redisKeys(config.keys.redisPrefix).rateLimit(),
    }),
    generateNow: syncGenerator({ workerUrl: config.edge.workerUrl, secret: config.auth.jwtSecret }),
    logger: createLogger({
      level: config.log.level,
      format: resolveLogFormat(config.log.format, { isTTY: output.terminal === true, noColor: Boolean(env.NO_COLOR) }),
      fields: { component: "edge" },
    }),
  };
}
