import { type Env, parseConfig } from "../shared/config/parse-config.ts";
import { createLogger, resolveLogFormat } from "../shared/logger.ts";
import { redisKeys } from "../shared/redis-keys.ts";
import { topicSpecs } from "../shared/topics.ts";
import type { EdgeDeps } from "./edge-deps.ts";
import { createGenerationStore } from "./generation-store.ts";
import { createHistoryClient } from "./history-client.ts";
import { createRestProducer } from "./kafka-rest-producer.ts";
import { coalesceProduces, type NextTurn } from "./produce-coalescer.ts";
import { syncGenerator } from "./sync-generation.ts";
import { createRateLimiter, createUpstashRedis } from "./upstash-clients.ts";
import { createWebhookSecrets } from "./webhook-secrets.ts";

/**
 * Parses the edge's configuration and builds its clients; throws ConfigError on bad settings.
 * `terminal`: the process's output is a terminal (Bun and Deno can tell, a Worker cannot), for readable log lines.
 * `nextTurn`: where requests may share I/O (Bun), the submits of one event-loop turn produce in
 * one call (produce-coalescer.ts); without it each produces alone, as a Worker must.
 */
export function buildEdgeDeps(env: Env, runtime: { terminal?: boolean; nextTurn?: NextTurn } = {}): EdgeDeps {
  const config = parseConfig(env, [
    "edge",
    "auth",
    "keys",
    "public",
    "webhooks",
    "kafkaRest",
    "redisRest",
    "kafka",
    "log",
  ]);
  const redis = createUpstashRedis(config.redisRest);
  const rateLimitPrefix = redisKeys(config.keys.redisPrefix).rateLimit();
  const rest = createRestProducer(config.kafkaRest);
  const limiter = (name: string, limit: number, windowSeconds: number) =>
    createRateLimiter(redis, { limit, windowSeconds, prefix: `${rateLimitPrefix}:${name}` });
  return {
    config,
    requestsTopic: topicSpecs(config.kafka).requests.name,
    store: createGenerationStore(redis, config.keys.redisPrefix),
    producer: runtime.nextTurn ? coalesceProduces(rest, { nextTurn: runtime.nextTurn }) : rest,
    limiters: {
      submitsPerUser: limiter("submit-user", config.edge.rateLimitPerMinute, 60),
      sessionsPerIp: limiter("session-ip", config.edge.sessionsPerIpPerHour, 3600),
      anonymousSubmitsPerIp: limiter("anon-submit-ip", config.edge.anonymousSubmitsPerIpPerMinute, 60),
      anonymousSubmits: limiter("anon-submit-all", config.edge.anonymousSubmitsPerMinute, 60),
      readsPerIp: limiter("read-ip", config.edge.readsPerIpPerMinute, 60),
    },
    webhookSecrets: createWebhookSecrets(redis, config.keys.redisPrefix),
    generateNow: syncGenerator({
      workerUrl: config.edge.workerUrl,
      secret: config.auth.jwtSecret,
      maxInFlight: config.edge.syncMaxInFlight,
    }),
    history: createHistoryClient({ workerUrl: config.edge.workerUrl, secret: config.auth.jwtSecret }),
    logger: createLogger({
      level: config.log.level,
      format: resolveLogFormat(config.log.format, { isTTY: runtime.terminal === true, noColor: Boolean(env.NO_COLOR) }),
      fields: { component: "edge" },
    }),
  };
}
