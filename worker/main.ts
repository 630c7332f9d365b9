/**
 * One worker instance: consumes image.generation.requests, generates, stores and reports,
 * and serves HTTP: images, WebSocket and SSE on WS_PORT; probes, metrics and the synchronous
 * path on WORKER_INTERNAL_PORT (never published). Instances share both ports via SO_REUSEPORT.
 */
import { hostname } from "node:os";
import { topicSpecs } from "../shared/topics.ts";
import { createBatchingProducer } from "./gateway/batching-producer.ts";
import { generateNow } from "./generation/generate-now.ts";
import { createGenerationState } from "./generation/generation-state.ts";
import { createGenerationWorker } from "./generation/generation-worker.ts";
import { createProvider } from "./generation/provider-factory.ts";
import { createWorkerMetrics } from "./generation/worker-metrics.ts";
import { openHistoryDb } from "./history/history-db.ts";
import { historyRoutes } from "./http/history-routes.ts";
import { serveInternal } from "./http/internal-server.ts";
import { createInternalApp, createWorkerApp } from "./http/worker-app.ts";
import { imageRoutes } from "./images/image-routes.ts";
import { createImageStore } from "./images/image-store-factory.ts";
import { createDeadLetters } from "./kafka/dead-letters.ts";
import { createKafka } from "./kafka/kafka-client.ts";
import { createPurger } from "./lifecycle/purge-generation.ts";
import { createMinuteStats } from "./ops/minute-stats.ts";
import { startWorkerHeartbeat } from "./ops/worker-heartbeat.ts";
import { createRedis } from "./redis/redis-client.ts";
import { createSnapshotWriter } from "./relay/snapshot-writer.ts";
import { deadLetterMetrics, liveMetrics } from "./runtime/component-metrics.ts";
import { configOrExit, kafkaCa, loggerFor, orExit } from "./runtime/entry.ts";
import { beatToSupervisor } from "./runtime/liveness.ts";
import { startProcessMetrics } from "./runtime/metrics-server.ts";
import { producerMetrics } from "./runtime/producer-metrics.ts";
import { createLiveService, serveWithWebSockets } from "./ws/live-service.ts";

const config = configOrExit(process.env, [
  "kafka",
  "worker",
  "redis",
  "keys",
  "auth",
  "public",
  "listen",
  "metrics",
  "database",
]);
const instance = process.env.WORKER_INSTANCE ?? "1";
const workerId = `${hostname()}-${instance}-${process.pid}`;
const logger = loggerFor(config, "worker").child({ workerId });
const processMetrics = startProcessMetrics(config.metrics, "worker", logger, Number(instance) || 1);
const provider = orExit(() => createProvider(config.worker));
const store = orExit(() => createImageStore(config.worker));
const imageUrl = (key: string) => `${config.public.imageUrl}/${key}`;

const redis = await createRedis(config.redis.url, { name: `worker-${process.pid}` });
const history = await openHistoryDb(config.database.url).catch((error) => {
  logger.error("cannot open DATABASE_URL", { error });
  process.exit(1);
});
const purger = createPurger({ redis, prefix: config.keys.redisPrefix, history, store, logger });
const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), clientIdSuffix: "worker" });
const producer = createBatchingProducer({ kafka, logger, onBatch: producerMetrics(processMetrics.metrics) });
await producer.start();
const topics = topicSpecs(config.kafka);
const state = createGenerationState(redis, config.keys.redisPrefix);

let inFlight = () => 0;
let buffered = () => 0;
const stats = createMinuteStats(redis, config.keys.redisPrefix);
const heartbeat = startWorkerHeartbeat({
  redis,
  prefix: config.keys.redisPrefix,
  identity: {
    id: workerId,
    instance,
    host: hostname(),
    pid: process.pid,
    maxConcurrent: config.worker.maxConcurrent,
    metricsUrl: processMetrics.url,
  },
  stats,
  logger,
});
const metrics = createWorkerMetrics(
  processMetrics.metrics,
  { inFlight: () => inFlight(), buffered: () => buffered(), requestsTopic: topics.requests.name },
  stats.record,
);
const consumer = createGenerationWorker({
  kafka,
  producer,
  deadLetters: createDeadLetters({
    producer,
    topic: topics.deadLetter.name,
    consumer: config.kafka.consumerGroup,
    logger,
    onParked: deadLetterMetrics(processMetrics.metrics),
  }),
  topics,
  groupId: config.kafka.consumerGroup,
  maxConcurrent: config.worker.maxConcurrent,
  lookahead: config.worker.lookahead,
  priorityAging: config.worker.priorityAging,
  sessionTimeoutMs: config.kafka.sessionTimeoutMs,
  provider,
  store,
  state,
  // Progress reaches clients without waiting for the relay to read it back from Kafka.
  applyLive: createSnapshotWriter(redis, config.keys.redisPrefix).applyLive,
  workerId,
  policy: config.worker,
  imageUrl,
  discardImages: purger.discardImages,
  logger,
  onRetry: () => {
    metrics.retry();
    heartbeat.retry();
  },
  onOutcome: (outcome, elapsedMs) => {
    metrics.outcome(outcome, elapsedMs);
    heartbeat.outcome(outcome);
  },
  onLag: metrics.lag,
  onPickup: metrics.pickup,
  onRunning: heartbeat.running,
});
inFlight = () => consumer.inFlight;
buffered = () => consumer.buffered;

const live = await createLiveService(config, redis, logger, liveMetrics(processMetrics.metrics));
const app = createWorkerApp({ images: imageRoutes(store), live: live.routes });
const internalApp = createInternalApp({
  metrics: () => processMetrics.metrics.scrape(),
  metricsToken: config.metrics.token,
  notReady: async () => {
    const failing: string[] = [];
    if (!consumer.ready) failing.push("kafka-consumer");
    if (!producer.connected) failing.push("kafka-producer");
    if (
      !(await redis.send("PING", []).then(
        () => true,
        () => false,
      ))
    )
      failing.push("redis");
    return failing;
  },
  history: historyRoutes({ secret: config.auth.jwtSecret, history, purger }),
  internal: {
    secret: config.auth.jwtSecret,
    generateNow: (request) =>
      generateNow(request, { provider, store, imageUrl, timeoutMs: config.worker.timeoutMs, logger }),
  },
});
const server = serveWithWebSockets(app.fetch, { host: config.listen.host, port: config.worker.port });
const internalServer = serveInternal(internalApp, { host: config.listen.host, port: config.worker.internalPort });
await consumer.start();
logger.info("worker ready", {
  port: server.port,
  internalPort: internalServer.port,
  maxConcurrent: config.worker.maxConcurrent,
  provider: provider.name,
});
beatToSupervisor();

let stopping: Promise<void> | null = null;
/** Fixed order: send live clients elsewhere, drain generations, flush events, close HTTP, the database, Redis. */
function shutdown(signal: string): Promise<void> {
  stopping ??= (async () => {
    logger.info("shutting down", { signal, inFlight: consumer.inFlight });
    live.close();
    await consumer.stop(config.worker.shutdownGraceMs);
    await producer.close();
    await heartbeat.stop();
    await server.stop();
    await internalServer.stop();
    processMetrics.stop();
    await history.close();
    redis.close();
    logger.info("stopped");
  })();
  return stopping;
}
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    void shutdown(signal).then(() => process.exit(0));
  });
