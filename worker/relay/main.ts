/** `npm run kafka:relay`: Kafka status → Redis snapshots, replay log and live channels; webhooks; backlog figure. */
import { topicSpecs } from "../../shared/topics.ts";
import { createBacklogReporter } from "../backlog/backlog-reporter.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createDeadLetters } from "../kafka/dead-letters.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { createRedis, createRedisSubscriber } from "../redis/redis-client.ts";
import { consumerLagMetrics, deadLetterMetrics, relayMetrics, webhookMetrics } from "../runtime/component-metrics.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";
import { beatToSupervisor } from "../runtime/liveness.ts";
import { startProcessMetrics } from "../runtime/metrics-server.ts";
import { serveReadiness } from "../runtime/readiness-server.ts";
import { createWebhookDispatcher, WEBHOOK_DISPATCHER } from "../webhooks/webhook-dispatcher.ts";
import { createSnapshotWriter } from "./snapshot-writer.ts";
import { createStatusRelay } from "./status-relay.ts";

const config = configOrExit(process.env, [
  "kafka",
  "redis",
  "keys",
  "webhooks",
  "backlog",
  "listen",
  "health",
  "metrics",
]);
const logger = loggerFor(config, "status-relay");
const { metrics, stop: stopMetrics } = startProcessMetrics(config.metrics, "status-relay", logger);
const onParked = deadLetterMetrics(metrics);
const redis = await createRedis(config.redis.url, { name: `relay-${process.pid}` });
const topics = topicSpecs(config.kafka);
const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), clientIdSuffix: "relay" });
// Only dead letters are produced here; the producer reconnects in the background if Kafka is away.
const producer = createBatchingProducer({ kafka, logger });
await producer.start();
const deadLetters = (consumer: string) =>
  createDeadLetters({ producer, topic: topics.deadLetter.name, consumer, logger, onParked });
const relay = createStatusRelay({
  kafka,
  groupId: config.kafka.relayGroup,
  topics: { requests: topics.requests.name, status: topics.status.name },
  writer: createSnapshotWriter(redis, config.keys.redisPrefix),
  deadLetters: deadLetters(config.kafka.relayGroup),
  logger,
  observe: relayMetrics(metrics),
  sessionTimeoutMs: config.kafka.sessionTimeoutMs,
  onLag: consumerLagMetrics(metrics),
});
// Wakes the dispatcher when any process queues a delivery; after a dropped connection it claims at once.
const webhookWakeups = await createRedisSubscriber(config.redis.url, {
  name: `relay-webhooks-${process.pid}`,
  logger,
  onResubscribed: (channels) => webhooks.resubscribed(channels),
});
const webhooks = createWebhookDispatcher({
  redis,
  subscriber: webhookWakeups,
  prefix: config.keys.redisPrefix,
  policy: config.webhooks,
  concurrency: { total: config.webhooks.concurrency, perUser: config.webhooks.concurrencyPerUser },
  deadLetters: deadLetters(WEBHOOK_DISPATCHER),
  logger: logger.child({ component: "webhooks" }),
  observe: webhookMetrics(metrics),
});
const backlog = createBacklogReporter({
  admin: kafka.admin(),
  redis,
  prefix: config.keys.redisPrefix,
  topic: topics.requests.name,
  groupId: config.kafka.consumerGroup,
  intervalMs: config.backlog.reportIntervalMs,
  logger: logger.child({ component: "backlog" }),
});
// Served before the consumer joins, so a probe reads 503 (not a refused connection) meanwhile.
const probe = config.health.port
  ? serveReadiness({
      host: config.listen.host,
      port: config.health.port,
      notReady: () => (relay.ready ? [] : ["kafka-consumer"]),
    })
  : null;
await relay.start();
await webhooks.start();
backlog.start();
logger.info("status relay running", { group: config.kafka.relayGroup });
beatToSupervisor();

let stopping: Promise<void> | null = null;
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    stopping ??= Promise.all([probe?.stop(), relay.stop(), webhooks.stop(), backlog.stop()])
      .then(() => producer.close())
      .then(() => {
        webhookWakeups.close();
        redis.close();
        stopMetrics();
      });
    void stopping.then(() => process.exit(0));
  });
