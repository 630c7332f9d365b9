import type { OpenAIImagesStandIn } from "./openai-images-standin.ts";
import type { Pipeline } from "./pipeline-harness.ts";

/** The API key the tests' OpenAI-compatible stand-in is started with. */
export const STANDIN_API_KEY = "sk-test-key-123456";

/**
 * The environment of a real worker process (`bun worker/main.ts`) on the test pipeline `p`,
 * configured like a container would be, with `model` (a stand-in started with STANDIN_API_KEY)
 * as its provider. `overrides` adds or replaces variables.
 */
export function workerProcessEnv(
  p: Pipeline,
  model: OpenAIImagesStandIn,
  ports: { ws: number; internal: number },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    KAFKA_BROKERS: "127.0.0.1:9092",
    KAFKA_TOPIC_PREFIX: p.kafkaConfig.topicPrefix,
    KAFKA_CONSUMER_GROUP: p.kafkaConfig.consumerGroup,
    REDIS_URL: "redis://127.0.0.1:6379",
    REDIS_KEY_PREFIX: p.prefix,
    AUTH_JWT_SECRET: p.jwtSecret,
    WS_PORT: String(ports.ws),
    WORKER_INTERNAL_PORT: String(ports.internal),
    GENERATION_PROVIDER: "openai-compatible",
    OPENAI_BASE_URL: model.url,
    OPENAI_API_KEY: STANDIN_API_KEY,
    OPENAI_MODEL: "gpt-image-1",
    IMAGE_STORE_DIR: p.imageDir,
    PUBLIC_IMAGE_URL: `http://127.0.0.1:${ports.ws}/images`,
    SHUTDOWN_GRACE_MS: "5000",
    LOG_LEVEL: "warn",
    ...overrides,
  };
}
