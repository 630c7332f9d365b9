import { errorMessage, PipelineError } from "../../shared/errors.ts";

/**
 * Broker answers that depend on the records themselves (their size, format, or the topic they
 * name): the same write fails the same way every time, so it is not retried. Every other answer
 * (connection refused or closed, request timeouts, NOT_LEADER_FOR_PARTITION and other leadership
 * moves, the producer's own sequence state — the batching producer replaces its producer after
 * a failed batch) says nothing about the records and passes once the cluster is whole again.
 */
const PERMANENT_TYPES = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "CORRUPT_MESSAGE",
  "INVALID_TIMESTAMP",
  "UNSUPPORTED_FOR_MESSAGE_FORMAT",
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
]);

/** kafkajs errors that mean a bug (ours or the client's), never a state of the cluster. */
const BUG_NAMES = new Set(["KafkaJSInvariantViolation", "TypeError", "RangeError", "SyntaxError", "ReferenceError"]);

interface KafkaJSLike {
  name?: string;
  type?: string;
  cause?: unknown;
  originalError?: unknown;
}

/**
 * The error and the causes it wraps, outermost first. kafkajs's retrier wraps what it gave up
 * on in KafkaJSNumberOfRetriesExceeded or KafkaJSNonRetriableError (`retriable: false`), so
 * the outer error's flag says "gave up", not "this write can never pass": the cause decides.
 */
function chain(error: unknown): KafkaJSLike[] {
  const errors: KafkaJSLike[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current && typeof current === "object" && !errors.includes(current); depth++) {
    const e = current as KafkaJSLike;
    errors.push(e);
    current = e.originalError ?? e.cause;
  }
  return errors;
}

/** A kafkajs failure as our error: permanent only when it depends on the records or is a bug. */
export function kafkaWriteError(error: unknown, what: string): PipelineError {
  if (error instanceof PipelineError) return error;
  const errors = chain(error);
  const type = errors.find((e) => e.type !== undefined)?.type;
  const permanent =
    (type !== undefined && PERMANENT_TYPES.has(type)) || errors.some((e) => BUG_NAMES.has(e.name ?? ""));
  const retryable = !permanent;
  return new PipelineError(retryable ? "kafka_unavailable" : "kafka_rejected", `${what}: ${errorMessage(error)}`, {
    retryable,
    cause: error,
    details: type === undefined ? undefined : { type },
  });
}

export const unavailable = (message: string): PipelineError =>
  new PipelineError("kafka_unavailable", message, { retryable: true });
