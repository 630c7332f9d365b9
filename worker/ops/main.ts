/** `npm run ops:console`: the operations console at http://<LISTEN_HOST>:OPS_PORT/ops. */
import { roundRobinTopics, topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { createRedis } from "../redis/redis-client.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";
import { httpMetrics } from "../runtime/http-metrics.ts";
import { beatToSupervisor } from "../runtime/liveness.ts";
import { startProcessMetrics } from "../runtime/metrics-server.ts";
import { createOpsApp } from "./ops-app.tsx";
import { createOpsConsole } from "./ops-console.ts";

const config = configOrExit(process.env, ["kafka", "redis", "keys", "auth", "listen", "metrics", "ops"]);
const logger = loggerFor(config, "ops-console");
const { metrics, stop: stopMetrics } = startProcessMetrics(config.metrics, "ops-console", logger);
const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), clientIdSuffix: "ops" });
const redis = await createRedis(config.redis.url, { name: `ops-${process.pid}` });
const topics = topicSpecs(config.kafka);
// It writes request records when an operator replays failed generations.
const producer = createBatchingProducer({ kafka, logger, roundRobinTopics: roundRobinTopics(topics) });
void producer.start();
const ops = await createOpsConsole({
  kafka,
  producer,
  redis,
  prefix: config.keys.redisPrefix,
  topics,
  groups: { workers: config.kafka.consumerGroup, relay: config.kafka.relayGroup, history: config.kafka.historyGroup },
  logger,
  metrics,
});
const app = await createOpsApp({
  console: ops,
  secret: config.auth.jwtSecret,
  publicOrigin: config.ops.publicOrigin,
  logger,
  observe: httpMetrics(metrics),
});
const server = Bun.serve({ hostname: config.listen.host, port: config.ops.port, fetch: app.fetch });
logger.info("operations console listening", { url: `http://${config.listen.host}:${server.port}/ops` });
beatToSupervisor();

let stopping: Promise<void> | null = null;
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    stopping ??= (async () => {
      await server.stop();
      await ops.stop();
      await producer.close();
      redis.close();
      stopMetrics();
    })();
    void stopping.then(() => process.exit(0));
  });
