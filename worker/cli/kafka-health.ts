/** `npm run kafka:health`: brokers, topics and consumer lag; exit 0 healthy, 1 with the reason. */
import { createLogger } from "../../shared/logger.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { checkClusterHealth } from "../kafka/cluster-health.ts";
import { formatHealthReport } from "../kafka/health-report.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";

const config = configOrExit(process.env, ["kafka"]);
// Client errors are reported once, in the summary; kafkajs's own lines only when debugging.
const logger = config.log.level === "debug" ? loggerFor(config, "kafka-health") : createLogger({ sink: () => {} });
const admin = createKafka({
  config: config.kafka,
  logger,
  ca: kafkaCa(config.kafka),
  retries: 1,
  requestTimeoutMs: 5000,
}).admin();
const report = await checkClusterHealth(admin, Object.values(topicSpecs(config.kafka)), {
  deadlineMs: 12_000,
  brokers: config.kafka.brokers,
});
console.log(formatHealthReport(report));
process.exit(report.ok ? 0 : 1);
