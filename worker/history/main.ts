/** `npm run history:writer`: Kafka complete/failed topics → the durable generation history (DATABASE_URL). */
import { errorMessage } from "../../shared/errors.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createDeadLetters } from "../kafka/dead-letters.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { consumerLagMetrics, deadLetterMetrics, historyMetrics } from "../runtime/component-metrics.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";
import { startProcessMetrics } from "../runtime/metrics-server.ts";
import { serveReadiness } from "../runtime/readiness-server.ts";
import { openHistoryDb } from "./history-db.ts";
import { createHistoryWriter } from "./history-writer.ts";

const config = configOrExit(process.env, ["kafka", "database", "listen", "health", "metrics"]);
const logger = loggerFor(config, "history-writer");
const { metrics, stop: stopMetrics } = startProcessMetrics(config.metrics, "history-writer", logger);
const groupId = config.kafka.historyGroup;
const history = await openHistoryDb(config.database.url).catch((error) => {
  console.error(`Cannot open DATABASE_URL: ${errorMessage(error)}`);
  process.exit(1);
});
const topics = topicSpecs(config.kafka);
const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), clientIdSuffix: "history" });
// Only dead letters are produced here; the producer reconnects in the background if Kafka is away.
const producer = createBatchingProducer({ kafka, logger });
await producer.start();
const writer = createHistoryWriter({
  kafka,
  groupId,
  topics: { complete: topics.complete.name, failed: topics.failed.name },
  history,
  deadLetters: createDeadLetters({
    producer,
    topic: topics.deadLetter.name,
    consumer: groupId,
    logger,
    onParked: deadLetterMetrics(metrics),
  }),
  logger,
  observe: historyMetrics(metrics),
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
await writer.start();
logger.info("history writer running", { group: groupId, database: history.dialect });

let stopping: Promise<void> | null = null;
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    // The consumer first, so no write is in flight when the database closes.
    stopping ??= Promise.all([probe?.stop(), writer.stop()])
      .then(() => producer.close())
      .then(() => history.close())
      .then(stopMetrics);
    void stopping.then(() => {
      logger.info("history writer stopped", { recorded: writer.recorded });
      process.exit(0);
    });
  });
