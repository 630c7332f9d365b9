/**
 * Option 3(d) of bench/README, measured rather than adopted: `bun bench/direct/edge.ts` is our
 * edge app built from the same environment as `edge/entry-bun.ts`, with the same per-request
 * metrics, producing to Kafka itself with the gateway's batching producer — no REST hop, no
 * gateway process, Kafka credentials at the edge. (`buildEdgeDeps` still builds the REST
 * producer; it is never called.) A Workers edge cannot do this; whether the Bun edge should is
 * the lead's call, and `product-compare.bench.ts --direct` says what it would buy.
 */
import { createEdgeApp } from "../../edge/app.ts";
import { buildEdgeDeps } from "../../edge/build-deps.ts";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { roundRobinTopics, topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../../worker/gateway/batching-producer.ts";
import { createKafka } from "../../worker/kafka/kafka-client.ts";
import { kafkaCa } from "../../worker/runtime/entry.ts";
import { httpMetrics } from "../../worker/runtime/http-metrics.ts";
import { Metrics, processMetrics } from "../../worker/runtime/metrics.ts";
import { directProducer } from "./direct-producer.ts";

const deps = buildEdgeDeps(process.env);
const { listen, kafka: kafkaConfig } = parseConfig(process.env, ["listen", "kafka"]);
// As worker/gateway/main.ts sets it up: its callers wait a second at most.
const retry = { retries: 30, retryCapMs: 100 };
const kafka = createKafka({ config: kafkaConfig, logger: deps.logger, ca: kafkaCa(kafkaConfig), ...retry });
const batching = createBatchingProducer({
  kafka,
  logger: deps.logger,
  waitMs: 1000,
  roundRobinTopics: roundRobinTopics(topicSpecs(kafkaConfig)),
  ...retry,
});
await batching.start();
const observe = httpMetrics(processMetrics(new Metrics()));
const app = createEdgeApp({ ...deps, producer: directProducer(batching), observe });
const server = Bun.serve({ hostname: listen.host, port: deps.config.edge.port, fetch: app.fetch });
deps.logger.info("direct edge listening", { url: server.url.href });
// Requests in flight finish (and produce) before the producer drains and disconnects.
const stop = () =>
  void server
    .stop()
    .then(() => batching.close())
    .finally(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
