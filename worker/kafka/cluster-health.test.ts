import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { brokerCaPem, LOCAL_SCRAM, SASL_SSL_BROKER } from "../../infrastructure/kafka/kafka-local.ts";
import { PipelineError } from "../../shared/errors.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { checkClusterHealth } from "./cluster-health.ts";
import { readDeadLetterTail } from "./dead-letter-tail.ts";
import { createDeadLetters } from "./dead-letters.ts";
import { formatHealthReport } from "./health-report.ts";
import { ensureTopics } from "./topic-admin.ts";

const config = freshKafkaConfig();
const specs = Object.values(topicSpecs(config));
const health = (kafkaConfig = config, options: { ca?: string } = {}) =>
  checkClusterHealth(
    testKafka(kafkaConfig, { retries: 1, ca: options.ca }).admin(),
    Object.values(topicSpecs(kafkaConfig)),
    {
      deadlineMs: 12_000,
      brokers: kafkaConfig.brokers,
    },
  );

beforeAll(async () => {
  const admin = testKafka(config).admin();
  await admin.connect();
  await ensureTopics(admin, specs);
  await admin.disconnect();
});
afterAll(() => deleteTestTopics(config));

describe("checkClusterHealth against the real broker", () => {
  test("is OK after the topics are created and reports partitions, retention and brokers", async () => {
    const report = await health();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.brokers).toEqual([{ nodeId: 1, host: "127.0.0.1", port: 9092 }]);
    expect(report.topics.map((t) => [t.partitions, t.retentionMs, t.underReplicatedPartitions])).toEqual([
      [6, 7 * 86400000, 0],
      [3, 86400000, 0],
      [3, 7 * 86400000, 0],
      [3, 7 * 86400000, 0],
      [3, 14 * 86400000, 0],
    ]);
    expect(report.deadLetters).toEqual({ topic: topicSpecs(config).deadLetter.name, parked: 0, groups: [] });
    const text = formatHealthReport(report);
    expect(text).toContain(`Dead letters: none in ${topicSpecs(config).deadLetter.name}`);
    expect(text).toContain(`${specs[0]?.name}  partitions 6/6  retention 7d`);
    expect(text).toContain(`${specs[1]?.name}  partitions 3/3  retention 1d`);
    expect(text.endsWith("OK")).toBe(true);
  });

  test("reports a consumer group's lag", async () => {
    const requests = specs[0]?.name ?? "";
    const kafka = testKafka(config);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: requests, messages: [0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `m${i}` })) });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: config.consumerGroup,
      topic: requests,
      partitions: [{ partition: 0, offset: "2" }],
    });
    await admin.disconnect();

    const report = await health();
    const group = report.groups.find((g) => g.groupId === config.consumerGroup);
    expect(group?.lagByTopic[requests]).toBe(3);
    expect(formatHealthReport(report)).toContain(`${config.consumerGroup}  Empty  members 0  lag 3`);
    // kafkajs's setOffsets runs a consumer of the group until its first fetch ends (its 5 s default
    // wait), so the test's own 5 s default is not enough.
  }, 30_000);

  test("counts parked dead letters and groups the newest by consumer, source and code, staying OK", async () => {
    const kafka = testKafka(config);
    const producer = createBatchingProducer({ kafka, logger: silentLogger });
    await producer.start();
    const source = (offset: number) => ({ kind: "kafka" as const, topic: "src", partition: 0, offset: String(offset) });
    const relay = createDeadLetters({
      producer,
      topic: topicSpecs(config).deadLetter.name,
      consumer: "relay",
      logger: silentLogger,
    });
    const bug = new TypeError("x is undefined");
    await relay.park({ source: source(1), value: "{", error: new PipelineError("invalid_event", "not JSON") });
    await relay.park({ source: source(2), value: "{{", error: new PipelineError("invalid_event", "still not JSON") });
    await relay.park({ source: source(3), value: null, error: bug });
    await producer.close();

    const report = await checkClusterHealth(testKafka(config).admin(), specs, {
      deadlineMs: 12_000,
      brokers: config.brokers,
      deadLetterTail: (topic) => readDeadLetterTail(kafka, topic, { perPartition: 50, timeoutMs: 8_000 }),
    });
    expect(report.ok).toBe(true);
    expect(report.deadLetters?.parked).toBe(3);
    expect(report.deadLetters?.groups.map((g) => [g.consumer, g.source, g.code, g.count, g.lastReason]).sort()).toEqual(
      [
        ["relay", "src", "internal", 1, "x is undefined"],
        ["relay", "src", "invalid_event", 2, "still not JSON"],
      ],
    );
    const text = formatHealthReport(report);
    expect(text).toContain(`Dead letters: ⚠ 3 parked in ${topicSpecs(config).deadLetter.name}`);
    expect(text).toContain("relay ← src  invalid_event ×2  last ");
    expect(text.endsWith("OK")).toBe(true);
  });

  test("fails naming the missing topic", async () => {
    const partial = freshKafkaConfig();
    const admin = testKafka(partial).admin();
    await admin.connect();
    const [first, ...rest] = Object.values(topicSpecs(partial));
    await ensureTopics(admin, rest);
    await admin.disconnect();
    try {
      const report = await health(partial);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([`topic missing: ${first?.name} (run npm run kafka:create-topics)`]);
    } finally {
      await deleteTestTopics(partial);
    }
  });

  test("fails fast naming the broker when nothing listens there", async () => {
    const down = freshKafkaConfig({ KAFKA_BROKERS: "127.0.0.1:1" });
    const report = await health(down);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toStartWith("broker unreachable: 127.0.0.1:1 (");
  });

  test("connects over TLS with SCRAM-SHA-512, and reports a wrong password as an auth failure", async () => {
    const ca = await brokerCaPem();
    const secured = {
      KAFKA_BROKERS: SASL_SSL_BROKER,
      KAFKA_SSL: "true",
      KAFKA_SASL_USERNAME: LOCAL_SCRAM.username,
      KAFKA_TOPIC_PREFIX: config.topicPrefix,
    };
    const good = await health(freshKafkaConfig({ ...secured, KAFKA_SASL_PASSWORD: LOCAL_SCRAM.password }), { ca });
    expect(good.problems).toEqual([]);
    expect(good.ok).toBe(true);

    const bad = await health(freshKafkaConfig({ ...secured, KAFKA_SASL_PASSWORD: "not-the-password" }), { ca });
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]).toStartWith("authentication failed:");
  });
});
