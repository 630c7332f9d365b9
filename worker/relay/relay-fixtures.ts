import type { SectionConfig } from "../../shared/config/parse-config.ts";
import { topicSpecs } from "../../shared/topics.ts";
import type { BatchingProducer } from "../gateway/batching-producer.ts";
import { createDeadLetters } from "../kafka/dead-letters.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import type { Redis } from "../redis/redis-client.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { createSnapshotWriter } from "./snapshot-writer.ts";
import { createStatusRelay } from "./status-relay.ts";

/** A status relay on the fresh topics of `config`, writing under `prefix` and parking through `producer`. */
export function testStatusRelay(options: {
  kafka: Kafka;
  config: SectionConfig<"kafka">;
  redis: Redis;
  prefix: string;
  producer: BatchingProducer;
  sessionTimeoutMs?: number;
}) {
  const topics = topicSpecs(options.config);
  return createStatusRelay({
    kafka: options.kafka,
    groupId: `${options.config.consumerGroup}-relay`,
    topics: { requests: topics.requests.name, status: topics.status.name },
    writer: createSnapshotWriter(options.redis, options.prefix),
    deadLetters: createDeadLetters({
      producer: options.producer,
      topic: topics.deadLetter.name,
      consumer: "relay",
      logger: silentLogger,
    }),
    logger: silentLogger,
    sessionTimeoutMs: options.sessionTimeoutMs,
  });
}
