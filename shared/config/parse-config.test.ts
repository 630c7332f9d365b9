import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "./parse-config.ts";

const problemsOf = (env: Record<string, string>, sections: Parameters<typeof parseConfig>[1]) => {
  try {
    parseConfig(env, sections);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
};

describe("parseConfig", () => {
  test("applies the documented defaults", () => {
    const config = parseConfig({}, ["kafka", "worker", "redis"]);
    expect(config.kafka.brokers).toEqual(["127.0.0.1:9092"]);
    expect(config.kafka.ssl).toBe(false);
    expect(config.worker.instances).toBe(2);
    expect(config.worker.maxConcurrent).toBe(4);
    expect(config.worker.timeoutMs).toBe(120000);
    expect(config.worker.port).toBe(3001);
    expect(config.redis.url).toBe("redis://127.0.0.1:6379");
  });

  test("parses the seed variables", () => {
    const config = parseConfig(
      {
        KAFKA_BROKERS: "b-1.msk:9096, b-2.msk:9096",
        KAFKA_CLIENT_ID: "studio",
        KAFKA_SSL: "true",
        KAFKA_SASL_USERNAME: "alice",
        KAFKA_SASL_PASSWORD: "s3cret-password",
        PROCESSING_WORKER_INSTANCES: "3",
        MAX_CONCURRENT_GENERATIONS: "8",
        GENERATION_TIMEOUT_MS: "30000",
        WS_PORT: "4001",
        ENABLE_KAFKA_IMAGE_GENERATION: "false",
        AUTH_JWT_SECRET: "x".repeat(32),
      },
      ["kafka", "worker", "edge", "auth"],
    );
    expect(config.kafka.brokers).toEqual(["b-1.msk:9096", "b-2.msk:9096"]);
    expect(config.kafka.clientId).toBe("studio");
    expect(config.kafka.ssl).toBe(true);
    expect(config.kafka.saslUsername).toBe("alice");
    expect(config.worker.instances).toBe(3);
    expect(config.worker.maxConcurrent).toBe(8);
    expect(config.worker.timeoutMs).toBe(30000);
    expect(config.worker.port).toBe(4001);
    expect(config.edge.kafkaEnabled).toBe(false);
  });

  test.each([
    [{ KAFKA_BROKERS: "localhost" }, "KAFKA_BROKERS must be a comma-separated list of host:port"],
    [{ KAFKA_BROKERS: " , " }, "KAFKA_BROKERS must list at least one host:port"],
    [{ KAFKA_SSL: "maybe" }, 'KAFKA_SSL must be true or false, got "maybe"'],
    [{ MAX_CONCURRENT_GENERATIONS: "0" }, "MAX_CONCURRENT_GENERATIONS must be between 1 and 256, got 0"],
    [{ PROCESSING_WORKER_INSTANCES: "two" }, 'PROCESSING_WORKER_INSTANCES must be an integer, got "two"'],
    [{ GENERATION_TIMEOUT_MS: "1.5" }, "GENERATION_TIMEOUT_MS must be an integer"],
    [{ WS_PORT: "70000" }, "WS_PORT must be between 1 and 65535, got 70000"],
    [{ GENERATION_PROVIDER: "dalle" }, "GENERATION_PROVIDER must be one of procedural, openai-compatible"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL must be a redis: or rediss: URL"],
  ])("names the variable and the problem: %p", (env, expected) => {
    const problems = problemsOf(env as Record<string, string>, ["kafka", "worker", "redis"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith(expected);
  });

  test("a required variable that is missing is named", () => {
    expect(problemsOf({}, ["auth"])).toEqual([
      "AUTH_JWT_SECRET is required (Master secret (≥ 32 chars); API, session, event and internal tokens each sign with a key derived from it (HKDF).)",
    ]);
  });

  test("a SASL username needs a password", () => {
    expect(problemsOf({ KAFKA_SASL_USERNAME: "alice" }, ["kafka"])).toEqual([
      "KAFKA_SASL_PASSWORD is required when KAFKA_SASL_USERNAME is set",
    ]);
  });

  test("never echoes a secret's value", () => {
    const secret = "short-secret";
    const error = (() => {
      try {
        parseConfig({ AUTH_JWT_SECRET: secret }, ["auth"]);
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.message).toBe("Invalid configuration: AUTH_JWT_SECRET must be at least 32 characters long");
    expect(error?.message).not.toContain(secret);
  });

  test("reports every problem in one message", () => {
    const problems = problemsOf({ WS_PORT: "x", KAFKA_SSL: "y" }, ["kafka", "worker"]);
    expect(problems.map((p) => p.split(" ")[0])).toEqual(["KAFKA_SSL", "WS_PORT"]);
  });
});
