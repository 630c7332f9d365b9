/** `npm run kafka:create-topics`: create or reconcile the topics (shared/topics.ts); exits 1 if any needs an operator. */
import { topicSpecs } from "../../shared/topics.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { classifyKafkaError } from "../kafka/kafka-errors.ts";
import { describeOutcome, ensureTopics, isProblem } from "../kafka/topic-admin.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";

const config = configOrExit(process.env, ["kafka"]);
const logger = loggerFor(config, "create-topics");
const admin = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), retries: 2 }).admin();
try {
  await admin.connect();
  const outcomes = await ensureTopics(admin, Object.values(topicSpecs(config.kafka)));
  for (const outcome of outcomes) console.log(describeOutcome(outcome));
  process.exitCode = outcomes.some(isProblem) ? 1 : 0;
} catch (error) {
  console.error(`kafka:create-topics failed: ${classifyKafkaError(error).message}`);
  process.exitCode = 1;
} finally {
  await admin.disconnect().catch(() => {});
}
