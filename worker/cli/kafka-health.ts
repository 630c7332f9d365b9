/** `npm run kafka:health`: brokers, topics, consumer lag and dead letters; exit 0 healthy, 1 with the reason. */
import { createLogger } from "../../shared/logger.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { checkClusterHealth } from "../kafka/cluster-health.ts";
import { readDeadLetterTail } from "../kafka/dead-letter-tail.ts";
import { formatHealthReport } from "../kafka/health-report.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";

const config = configOrExit(process.env, ["kafka"]);
// Client errors are reported once, in the summary; kafkajs's own lines only when debugging.
const logger = config.log.level === "debug" ? loggerFor(config, "kafka-health") : createLogger({ sink: () => {} });
const kafka = createKafka({
  config: config.kafka,
  logger,
  ca: kafkaCa(config.kafka),
  retries: 1,
  requestTimeoutMs: 5000,
});
const report = await checkClusterHealth(kafka.admin(), Object.values(topicSpecs(config.kafka)), {
  deadlineMs: 12_000,
  brokers: config.kafka.brokers,
  deadLetterTail: (topic) => readDeadLetterTail(kafka, topic, { perPartition: 50, timeoutMs: 4_000 }),
});
console.log(formatHealthReport(report));
process.exit(report.ok ? 0 : 1);
