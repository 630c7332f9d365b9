/**
 * The Kafka REST gateway process (`bun worker/gateway/main.ts`): serves the Upstash-compatible
 * produce API on KAFKA_REST_PORT and writes to the request topic with one idempotent producer.
 */
import { roundRobinTopics, topicSpecs } from "../../shared/topics.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";
import { httpMetrics } from "../runtime/http-metrics.ts";
import { beatToSupervisor } from "../runtime/liveness.ts";
import { startProcessMetrics } from "../runtime/metrics-server.ts";
import { producerMetrics } from "../runtime/producer-metrics.ts";
import { createBatchingProducer } from "./batching-producer.ts";
import { createKafkaRestGateway } from "./gateway-app.ts";

const config = configOrExit(process.env, ["kafka", "kafkaRest", "listen", "metrics"]);
const logger = loggerFor(config, "kafka-rest-gateway");
const { metrics, stop: stopMetrics } = startProcessMetrics(config.metrics, "kafka-rest-gateway", logger);
// Its callers wait a second at most (below), so kafkajs's usual pauses of up to 0.5 s between
// tries serve none of them: this client tries every 0.1 s, thirty times (as long in all as the
// usual eight, ~3 s). After a broker outage the first 202 came 0.5 s after the broker answered
// (`npm run chaos`, "broker down"): the next connect try, then InitProducerId answering "loading"
// for a few hundred ms and tried again only 0.1 s, 0.3 s, 0.7 s after.
const retry = { retries: 30, retryCapMs: 100 };
const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), ...retry });
// A caller waits at most a second on a Kafka that is not answering, then hears 503 + Retry-After
// with its records unsent, instead of hanging until its own deadline (the edge's is 5 s) and
// perhaps being written after it gave up.
const topics = topicSpecs(config.kafka);
const producer = createBatchingProducer({
  kafka,
  logger,
  onBatch: producerMetrics(metrics),
  waitMs: 1000,
  roundRobinTopics: roundRobinTopics(topics),
  ...retry,
});
const app = createKafkaRestGateway({
  producer,
  username: config.kafkaRest.username,
  password: config.kafkaRest.password,
  allowedTopics: [topics.requests.name],
  logger,
  observe: httpMetrics(metrics),
});

const server = Bun.serve({
  hostname: config.listen.host,
  port: config.kafkaRest.port,
  fetch: app.fetch,
  // A produce waits for kafkajs's retries while a broker is failing over: longer than Bun's 10 s default.
  idleTimeout: 120,
});
logger.info("Kafka REST gateway listening", { url: server.url.href });
beatToSupervisor();
// Serve at once: /healthz answers 503 until the producer connects, which it keeps retrying.
void producer.start();

let stopping: Promise<void> | undefined;
const shutdown = (signal: string) => {
  stopping ??= (async () => {
    logger.info("Kafka REST gateway stopping", { signal });
    // Stop accepting; requests already in flight finish, their batches included.
    await server.stop();
    await producer.close();
    stopMetrics();
    logger.info("Kafka REST gateway stopped");
    process.exit(0);
  })().catch((error: unknown) => {
    logger.error("Kafka REST gateway did not stop cleanly", { error });
    process.exit(1);
  });
  return stopping;
};
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
