import { errorMessage, isRetryable, PipelineError } from "../../shared/errors.ts";

/**
 * Broker answers about the producer's own sequence state. The batching producer replaces its
 * producer (new producer id, sequences from zero) after any failed batch, so a retry can succeed.
 */
const PRODUCER_STATE_ERRORS = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "DUPLICATE_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_EPOCH",
]);

interface KafkaJSLike {
  name?: string;
  type?: string;
  cause?: unknown;
  originalError?: unknown;
}

function protocolType(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const e = current as KafkaJSLike;
    if (e.type) return e.type;
    current = e.originalError ?? e.cause;
  }
  return undefined;
}

/**
 * A kafkajs failure as our error, `retryable` taken from kafkajs's `retriable`. kafkajs marks
 * "gave up after N retries" as non-retriable, but its cause was transient by definition, so
 * trying again later (the HTTP client's retry) can help: that one is retryable.
 */
export function kafkaWriteError(error: unknown, what: string): PipelineError {
  if (error instanceof PipelineError) return error;
  const type = protocolType(error);
  const retryable =
    (error as KafkaJSLike | undefined)?.name === "KafkaJSNumberOfRetriesExceeded" ||
    (type !== undefined && PRODUCER_STATE_ERRORS.has(type)) ||
    isRetryable(error);
  return new PipelineError(retryable ? "kafka_unavailable" : "kafka_rejected", `${what}: ${errorMessage(error)}`, {
    retryable,
    cause: error,
    details: type === undefined ? undefined : { type },
  });
}

export const unavailable = (message: string): PipelineError =>
  new PipelineError("kafka_unavailable", message, { retryable: true });
