/**
 * Option 3(d) of bench/README, measured rather than adopted: `bun bench/direct/edge.ts` is our
 * edge app built from the same environment as `edge/entry-bun.ts`, producing to Kafka itself with
 * the gateway's batching producer — no REST hop, no gateway process, Kafka credentials at the
 * edge. A Workers edge cannot do this; whether the Bun edge should is the lead's call, and
 * `product-compare.bench.ts --direct` says what it would buy.
 */
import { createEdgeApp } from "../../edge/app.ts";
import { buildEdgeDeps } from "../../edge/build-deps.ts";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { roundRobinTopics, topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../../worker/gateway/batching-producer.ts";
import { createKafka } from "../../worker/kafka/kafka-client.ts";
import { directProducer } from "./direct-producer.ts";

const deps = buildEdgeDeps(process.env);
const { listen, kafka: kafkaConfig } = parseConfig(process.env, ["listen", "kafka"]);
// As the gateway sets it up (worker/gateway/main.ts): its callers wait a second at most.
const retry = { retries: 30, retryCapMs: 100 };
const kafka = createKafka({ config: kafkaConfig, logger: deps.logger, ...retry });
const batching = createBatchingProducer({
  kafka,
  logger: deps.logger,
  waitMs: 1000,
  roundRobinTopics: roundRobinTopics(topicSpecs(kafkaConfig)),
  ...retry,
});
await batching.start();
const app = createEdgeApp({ ...deps, producer: directProducer(batching) });
const server = Bun.serve({ hostname: listen.host, port: deps.config.edge.port, fetch: app.fetch });
deps.logger.info("direct edge listening", { url: server.url.href });
process.once("SIGTERM", () => void Promise.all([server.stop(), batching.close()]).then(() => process.exit(0)));
