/**
 * The local stack without Docker: a KRaft broker, Redis and the topics (the four and the dead-letter one).
 * `npm start` and `npm test` both begin here; every step is idempotent.
 */
import type { Env } from "../shared/config/parse-config.ts";
import { parseConfig } from "../shared/config/parse-config.ts";
import { createLogger, resolveLogFormat } from "../shared/logger.ts";
import { topicSpecs } from "../shared/topics.ts";
import { createKafka } from "../worker/kafka/kafka-client.ts";
import { describeOutcome, ensureTopics } from "../worker/kafka/topic-admin.ts";
import { KAFKA_VERSION, startKafka } from "./kafka/kafka-local.ts";
import { residentMiB } from "./process-tools.ts";
import { startRedis } from "./redis/redis-local.ts";
import { ensureSystemPackages, FOR_START } from "./system-packages.ts";

export async function stackUp(env: Env, options: { topics: boolean; log?: (line: string) => void }): Promise<void> {
  const log = options.log ?? console.log;
  const config = parseConfig(env, ["kafka", "redis", "log"]);
  await ensureSystemPackages(FOR_START, { log });
  const [kafka, redis] = await Promise.all([startKafka(log), startRedis(config.redis.url)]);
  const mem = kafka.pid > 0 ? residentMiB(kafka.pid) : null;
  log(
    kafka.alreadyRunning
      ? `kafka: already running on ${config.kafka.brokers.join(",")}`
      : `kafka: Apache Kafka ${KAFKA_VERSION} (KRaft) started in ${kafka.startedMs} ms${mem ? `, ${mem} MiB resident` : ""}`,
  );
  log(
    redis.started
      ? `redis: started redis-server on ${config.redis.url}`
      : `redis: already answering on ${config.redis.url}`,
  );
  if (!options.topics) return;
  const format = resolveLogFormat(config.log.format, {
    isTTY: Boolean(process.stdout.isTTY),
    noColor: Boolean(env.NO_COLOR),
  });
  const logger = createLogger({ level: "warn", format, fields: { component: "topics" } });
  const admin = createKafka({ config: config.kafka, logger, retries: 3 }).admin();
  await admin.connect();
  try {
    for (const outcome of await ensureTopics(admin, Object.values(topicSpecs(config.kafka))))
      log(`topics: ${describeOutcome(outcome)}`);
  } finally {
    await admin.disconnect();
  }
}
