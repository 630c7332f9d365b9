/** `npm run kafka:replay-failed [-- <id>…]`: re-queues failed generations from image.generation.failed. */
import { roundRobinTopics, topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { createRedis } from "../redis/redis-client.ts";
import { replayFailed } from "../relay/replay-failed.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";

const config = configOrExit(process.env, ["kafka", "redis", "keys"]);
const logger = loggerFor(config, "replay-failed");
const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), retries: 3 });
const topics = topicSpecs(config.kafka);
const producer = createBatchingProducer({ kafka, logger, roundRobinTopics: roundRobinTopics(topics) });
const redis = await createRedis(config.redis.url);
try {
  if (!(await producer.start())) throw new Error(`cannot reach Kafka at ${config.kafka.brokers.join(",")}`);
  const result = await replayFailed({
    kafka,
    producer,
    redis,
    prefix: config.keys.redisPrefix,
    topics: { failed: topics.failed.name, requests: topics.requests.name },
    ids: process.argv.slice(2),
  });
  for (const id of result.replayed) console.log(`${id}: replayed`);
  for (const s of result.skipped) console.log(`${s.id}: skipped (${s.reason})`);
  console.log(`${result.replayed.length} replayed, ${result.skipped.length} skipped`);
} catch (error) {
  console.error(`kafka:replay-failed failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await producer.close();
  redis.close();
}
