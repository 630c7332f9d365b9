import { FORMATS, GENERATION_ERROR_CODES, JOB_STATUSES, STAGES } from "../job-states.ts";
import {
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
};

export const RequestEvent = defineEvent("request", object(requestShape));

/**
 * docs/api.md's status event, plus the terminal payload (`image`/`error`/`timings`) on the
 * terminal event, so one topic ordered by `seq` is enough to feed live clients.
 */
export const StatusEvent = defineEvent(
  "status",
  object({
    v: literal(1),
    id,
    userId,
    seq: integer({ min: 1 }),
    status: oneOf(JOB_STATUSES),
    progress: integer({ min: 0, max: 100 }),
    stage: oneOf(STAGES),
    at: isoDate(),
    workerId: string({ min: 1, max: 128 }),
    attempt,
    image: optional(imageRef),
    error: optional(generationError),
    timings: optional(timings),
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
