import { toWellFormedText } from "./unicode.ts";

/**
 * Every error we raise says whether trying again can help, in the manner of KafkaJS's
 * `retriable`: callers decide on retries from `retryable`, never from the message text.
 */
export class PipelineError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details?: unknown;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PipelineError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** A bug in our own code or a broken invariant: never retried, always logged loudly. */
export class ProgrammerError extends PipelineError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super("internal", message, { ...options, retryable: false });
    this.name = "ProgrammerError";
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof ProgrammerError) return false;
  if (error instanceof PipelineError) return error.retryable;
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) return false;
  // Errors from vendor libraries that speak KafkaJS's dialect.
  if (typeof error === "object" && error !== null && "retriable" in error) {
    return Boolean((error as { retriable: unknown }).retriable);
  }
  return false;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Text from outside (an error message, a provider's answer) made fit for an event field: at most
 * `max` characters, no half of a surrogate pair left by the cut, no NUL (the schema refuses both).
 */
export function clipText(text: string, max: number): string {
  return toWellFormedText(text.slice(0, max)).replaceAll("\u0000", "");
}
