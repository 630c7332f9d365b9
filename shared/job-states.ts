/** The closed set of generation states and stages (docs/api.md); nothing else is ever written. */
export const JOB_STATUSES = ["queued", "processing", "completed", "failed", "canceled", "expired"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** How a generation can end. `expired`: not started before its start deadline (`Cancel-After`), so it never ran. */
export const ENDINGS = ["completed", "failed", "canceled", "expired"] as const satisfies readonly JobStatus[];
export type Ending = (typeof ENDINGS)[number];
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(ENDINGS);
export const isTerminal = (status: JobStatus): boolean => TERMINAL_STATUSES.has(status);

export const STAGES = ["queued", "started", "rendering", "encoding", "storing", "done"] as const;
export type Stage = (typeof STAGES)[number];

export const STYLES = ["pixel-art", "geometric", "gradient", "noise"] as const;
export type Style = (typeof STYLES)[number];

export const FORMATS = ["webp", "png", "jpeg", "avif"] as const;
export type ImageFormat = (typeof FORMATS)[number];

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  webp: "image/webp",
  png: "image/png",
  jpeg: "image/jpeg",
  avif: "image/avif",
};

/** Error codes a generation can end with; `retryable` travels beside each on the wire. */
export const GENERATION_ERROR_CODES = [
  "timeout",
  "provider_error",
  "provider_unavailable",
  "content_policy",
  "invalid_request",
  "storage_error",
  "internal",
] as const;
export type GenerationErrorCode = (typeof GENERATION_ERROR_CODES)[number];

/** A code of the closed set as is; any other code a generation fails with is reported as `internal`. */
export const toGenerationErrorCode = (code: unknown): GenerationErrorCode =>
  (GENERATION_ERROR_CODES as readonly unknown[]).includes(code) ? (code as GenerationErrorCode) : "internal";

/**
 * The one message users see per generation error code. What actually went wrong (provider
 * answers, hosts, file paths) goes to the worker's log, never into events or snapshots.
 */
export const GENERATION_ERROR_MESSAGES: Record<GenerationErrorCode, string> = {
  timeout: "The generation took longer than allowed",
  provider_error: "The image provider could not make this image",
  provider_unavailable: "The image provider is unavailable; try again later",
  content_policy: "The image provider refused this prompt",
  invalid_request: "The request cannot be generated",
  storage_error: "The image could not be stored",
  internal: "Internal error",
};

/** Request priorities, most urgent first; `normal` unless the client asks otherwise. */
export const PRIORITIES = ["high", "normal", "low"] as const;
export type Priority = (typeof PRIORITIES)[number];
export const priorityRank = (priority: Priority | undefined): number => PRIORITIES.indexOf(priority ?? "normal");

/** Webhook events a client may ask for (Replicate's `webhook_events_filter`); `completed` means any end. */
export const WEBHOOK_EVENTS = ["start", "progress", "completed"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const GENERATION_LOG_LEVELS = ["info", "warn", "error"] as const;
export type GenerationLogLevel = (typeof GENERATION_LOG_LEVELS)[number];
