import { afterAll, describe, expect, test } from "bun:test";
import { deleteTestTopics, freshKafkaConfig } from "../testing/kafka-test-env.ts";
import { runScript } from "../testing/run-script.ts";

const config = freshKafkaConfig();
const env = { KAFKA_BROKERS: "127.0.0.1:9092", KAFKA_TOPIC_PREFIX: config.topicPrefix, LOG_LEVEL: "warn" };

const run = (script: string, extraEnv: Record<string, string> = {}) =>
  runScript(`worker/cli/${script}`, [], { ...env, ...extraEnv });

afterAll(() => deleteTestTopics(config));

describe("operations commands", () => {
  test("kafka:create-topics creates, then says per topic that nothing changed; kafka:health then exits 0", async () => {
    const first = await run("create-topics.ts");
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split("\n")).toEqual([
      `${config.topicPrefix}image.generation.requests: created`,
      `${config.topicPrefix}image.generation.status: created`,
      `${config.topicPrefix}image.generation.complete: created`,
      `${config.topicPrefix}image.generation.failed: created`,
      `${config.topicPrefix}image.generation.dead-letter: created`,
    ]);
    const second = await run("create-topics.ts");
    expect(second.code).toBe(0);
    expect(second.stdout.match(/already matches the spec, nothing changed/g)).toHaveLength(5);

    const health = await run("kafka-health.ts");
    expect(health.code).toBe(0);
    expect(health.stdout).toContain(`✓ ${config.topicPrefix}image.generation.requests  partitions 6/6  retention 7d`);
    expect(health.stdout).toContain(`✓ ${config.topicPrefix}image.generation.status  partitions 3/3  retention 1d`);
    expect(health.stdout).toContain(`✓ ${config.topicPrefix}image.generation.complete  partitions 3/3  retention 7d`);
    expect(health.stdout).toContain(`✓ ${config.topicPrefix}image.generation.failed  partitions 3/3  retention 7d`);
    expect(health.stdout).toContain(
      `✓ ${config.topicPrefix}image.generation.dead-letter  partitions 3/3  retention 14d`,
    );
    expect(health.stdout).toContain(`Dead letters: none in ${config.topicPrefix}image.generation.dead-letter`);
    expect(health.stdout.trim().endsWith("OK")).toBe(true);
  });

  test("kafka:health exits non-zero naming the unreachable broker", async () => {
    const health = await run("kafka-health.ts", { KAFKA_BROKERS: "127.0.0.1:1" });
    expect(health.code).toBe(1);
    expect(health.stdout).toContain("UNHEALTHY: broker unreachable: 127.0.0.1:1");
  });

  test("kafka:health exits non-zero naming a missing topic", async () => {
    const health = await run("kafka-health.ts", { KAFKA_TOPIC_PREFIX: `${config.topicPrefix}absent-` });
    expect(health.code).toBe(1);
    expect(health.stdout).toContain(`UNHEALTHY: topic missing: ${config.topicPrefix}absent-image.generation.requests`);
  });

  test("a malformed setting stops the command with one line naming the variable", async () => {
    const result = await run("kafka-health.ts", { KAFKA_REPLICATION_FACTOR: "three" });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim()).toBe(
      'Invalid configuration: KAFKA_REPLICATION_FACTOR must be an integer, got "three"',
    );
  });
});
