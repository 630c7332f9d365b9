import {
  FORMATS,
  GENERATION_ERROR_CODES,
  GENERATION_LOG_LEVELS,
  JOB_STATUSES,
  PRIORITIES,
  STAGES,
  WEBHOOK_EVENTS,
} from "../job-states.ts";
import {
  array,
  boolean,
  type Infer,
  integer,
  isoDate,
  literal,
  object,
  oneOf,
  optional,
  string,
  url,
} from "../schema/schema.ts";
import { UUID_V7 } from "../uuid7.ts";
import { defineEvent } from "./define-event.ts";
import { generationParams } from "./params.ts";

const id = string({ pattern: UUID_V7, patternMessage: "must be a UUIDv7" });
const userId = string({ min: 1, max: 128 });
const attempt = integer({ min: 1, max: 100 });

export const generationError = object({
  code: oneOf(GENERATION_ERROR_CODES),
  message: string({ min: 1, max: 2000 }),
  retryable: boolean(),
});

export const imageRef = object({
  key: string({ min: 1, max: 256 }),
  url: url({ protocols: ["http:", "https:"] }),
  width: integer({ min: 1 }),
  height: integer({ min: 1 }),
  format: oneOf(FORMATS),
  bytes: integer({ min: 1 }),
  sha256: string({ pattern: /^[0-9a-f]{64}$/, patternMessage: "must be a hex SHA-256" }),
});

/**
 * A low-resolution preview sent while a generation renders: a small WebP, base64, carried in a
 * status event (so it is ordered with the others) and kept a few KiB by the worker.
 */
export const MAX_PREVIEW_BASE64 = 16 * 1024;
export const preview = object({
  format: literal("webp"),
  width: integer({ min: 1, max: 512 }),
  height: integer({ min: 1, max: 512 }),
  data: string({
    min: 1,
    max: MAX_PREVIEW_BASE64,
    pattern: /^[A-Za-z0-9+/]+={0,2}$/,
    patternMessage: "must be base64",
  }),
});

/** One line of a generation's log (attempts, retries, errors, timings), as the worker writes it. */
export const logLine = object({
  level: oneOf(GENERATION_LOG_LEVELS),
  message: string({ min: 1, max: 500 }),
});

export const timings = object({
  queuedMs: integer({ min: 0 }),
  generationMs: integer({ min: 0 }),
  totalMs: integer({ min: 0 }),
});

const requestShape = {
  v: literal(1),
  id,
  userId,
  params: generationParams,
  createdAt: isoDate(),
  attempt,
  webhookUrl: optional(url({ protocols: ["https:", "http:"] })),
  /** Absent on requests written before priorities existed: `normal`. */
  priority: optional(oneOf(PRIORITIES)),
  /** A worker that picks the request up after this instant ends it `expired` without running it. */
  startDeadline: optional(isoDate()),
  /** Which webhook events to deliver; absent means `completed` only. */
  webhookEvents: optional(array(oneOf(WEBHOOK_EVENTS), { max: WEBHOOK_EVENTS.length })),
};

export const RequestEvent = defineEvent("request", object(requestShape));

/**
 * docs/api.md's status event, plus the terminal payload (`image`/`thumbnail`/`error`/`timings`) on
 * the terminal event, so one topic ordered by `seq` is enough to feed live clients. Also: a
 * `preview` while rendering, a `log` line for the generation's log, and on `canceled`/`expired`
 * the `request` (those end without an outcome topic, and the history records them from here).
 */
export const StatusEvent = defineEvent(
  "status",
  object({
    v: literal(1),
    id,
    userId,
    // Redis counts it from 1 and never gets near the bound; the history stores it as a 32-bit
    // integer, so a larger one is refused here (parked) rather than by the database.
    seq: integer({ min: 1, max: 2_147_483_647 }),
    status: oneOf(JOB_STATUSES),
    progress: integer({ min: 0, max: 100 }),
    stage: oneOf(STAGES),
    at: isoDate(),
    workerId: string({ min: 1, max: 128 }),
    attempt,
    image: optional(imageRef),
    thumbnail: optional(imageRef),
    error: optional(generationError),
    timings: optional(timings),
    preview: optional(preview),
    log: optional(logLine),
    request: optional(object(requestShape)),
  }),
);

export const CompleteEvent = defineEvent(
  "complete",
  object({
    v: literal(1),
    id,
    userId,
    params: generationParams,
    image: imageRef,
    /** Optional: complete events written before thumbnails were kept have none. */
    thumbnail: optional(imageRef),
    timings,
    attempts: attempt,
    completedAt: isoDate(),
  }),
);

export const FailedEvent = defineEvent(
  "failed",
  object({
    v: literal(1),
    id,
    userId,
    request: object(requestShape),
    error: generationError,
    attempts: attempt,
    failedAt: isoDate(),
  }),
);

export type RequestEvent = ReturnType<typeof RequestEvent.create>;
export type StatusEvent = ReturnType<typeof StatusEvent.create>;
export type CompleteEvent = ReturnType<typeof CompleteEvent.create>;
export type FailedEvent = ReturnType<typeof FailedEvent.create>;
export type Timings = Infer<typeof timings>;
export type ImageRef = Infer<typeof imageRef>;
export type GenerationError = Infer<typeof generationError>;
export type Preview = Infer<typeof preview>;
export type LogLine = Infer<typeof logLine>;
