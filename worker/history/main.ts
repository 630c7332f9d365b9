/**
 * `npm run history:writer`: Kafka complete/failed/status topics → the durable generation history
 * (DATABASE_URL), and the RETENTION_DAYS sweep.
 */
import { errorMessage } from "../../shared/errors.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createImageStore } from "../images/image-store-factory.ts";
import { createDeadLetters } from "../kafka/dead-letters.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { createPurger } from "../lifecycle/purge-generation.ts";
import { createRetention } from "../lifecycle/retention.ts";
import { createTombstones } from "../lifecycle/tombstones.ts";
import { createRedis } from "../redis/redis-client.ts";
import { consumerLagMetrics, deadLetterMetrics, historyMetrics } from "../runtime/component-metrics.ts";
import { configOrExit, kafkaCa, loggerFor, orExit } from "../runtime/entry.ts";
import { beatToSupervisor } from "../runtime/liveness.ts";
import { startProcessMetrics } from "../runtime/metrics-server.ts";
import { serveReadiness } from "../runtime/readiness-server.ts";
import { openHistoryDb } from "./history-db.ts";
import { createHistoryWriter } from "./history-writer.ts";

const config = configOrExit(process.env, [
  "kafka",
  "database",
  "redis",
  "keys",
  "worker",
  "listen",
  "health",
  "metrics",
]);
const logger = loggerFor(config, "history-writer");
const { metrics, stop: stopMetrics } = startProcessMetrics(config.metrics, "history-writer", logger);
const groupId = config.kafka.historyGroup;
const store = orExit(() => createImageStore(config.worker));
const history = await openHistoryDb(config.database.url).catch((error) => {
  console.error(`Cannot open DATABASE_URL: ${errorMessage(error)}`);
  process.exit(1);
});
const redis = await createRedis(config.redis.url, { name: `history-${process.pid}` });
const purger = createPurger({ redis, prefix: config.keys.redisPrefix, history, store, logger });
const topics = topicSpecs(config.kafka);
const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), clientIdSuffix: "history" });
// Only dead letters are produced here; the producer reconnects in the background if Kafka is away.
const producer = createBatchingProducer({ kafka, logger });
await producer.start();
const writer = createHistoryWriter({
  kafka,
  groupId,
  topics: { complete: topics.complete.name, failed: topics.failed.name, status: topics.status.name },
  history,
  tombstones: createTombstones(redis, config.keys.redisPrefix),
  discardImages: purger.discardImages,
  deadLetters: createDeadLetters({
    producer,
    topic: topics.deadLetter.name,
    consumer: groupId,
    logger,
    onParked: deadLetterMetrics(metrics),
  }),
  logger,
  observe: historyMetrics(metrics),
  sessionTimeoutMs: config.kafka.sessionTimeoutMs,
  onLag: consumerLagMetrics(metrics),
});
// Served before the consumer joins, so a probe reads 503 (not a refused connection) meanwhile.
const probe = config.health.port
  ? serveReadiness({
      host: config.listen.host,
      port: config.health.port,
      notReady: () => (writer.ready ? [] : ["kafka-consumer"]),
    })
  : null;
const retention = createRetention({ days: config.database.retentionDays, history, purger, logger });
await writer.start();
retention.start();
logger.info("history writer running", {
  group: groupId,
  database: history.dialect,
  retentionDays: config.database.retentionDays,
});
beatToSupervisor();

let stopping: Promise<void> | null = null;
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    // The consumer and the sweep first, so no write is in flight when the database closes.
    stopping ??= Promise.all([probe?.stop(), writer.stop(), retention.stop()])
      .then(() => producer.close())
      .then(() => history.close())
      .then(() => redis.close())
      .then(stopMetrics);
    void stopping.then(() => {
      logger.info("history writer stopped", { recorded: writer.recorded });
      process.exit(0);
    });
  });
