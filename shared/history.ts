/**
 * The durable history's records as the container tier serves them to the edge (worker/http/
 * history-routes.ts, documented in docs/openapi.worker.json), and how a record reads as the
 * public generation.
 */
import { generationError, imageRef, timings } from "./events/events.ts";
import { generationParams } from "./events/params.ts";
import { ENDINGS, GENERATION_ERROR_MESSAGES, GENERATION_LOG_LEVELS, toGenerationErrorCode } from "./job-states.ts";
import {
  array,
  described,
  type Infer,
  integer,
  isoDate,
  named,
  nullable,
  object,
  oneOf,
  string,
} from "./schema/schema.ts";
import { type GenerationSnapshot, generationId, toPublicImage } from "./snapshot.ts";

const storedImage = named("StoredImage", imageRef);

/** One ended generation as the history keeps it. */
export const generationRecord = named(
  "GenerationRecord",
  object({
    id: generationId,
    userId: string({ min: 1, max: 128 }),
    status: oneOf(ENDINGS),
    params: named("GenerationParams", generationParams),
    image: nullable(storedImage),
    thumbnail: nullable(storedImage),
    error: nullable(named("StoredGenerationError", generationError)),
    timings: nullable(named("Timings", timings)),
    attempts: integer({ min: 0 }),
    createdAt: isoDate(),
    completedAt: described(
      isoDate(),
      "When the generation ended: `completedAt` of a complete event, `failedAt` of a failed one, `at` of the rest.",
    ),
  }),
);
export type GenerationRecord = Infer<typeof generationRecord>;

/** A line of a generation's log, as `GET /api/generations/{id}/logs` lists it. */
export const generationLogEntry = named(
  "GenerationLogEntry",
  object({
    at: isoDate(),
    level: oneOf(GENERATION_LOG_LEVELS),
    message: described(
      string({ min: 1, max: 500 }),
      "What happened: an attempt started or failed (with the error code and its fixed message), a retry, a stage, " +
        "the outcome and its timings. Never the provider's own text, hosts or paths.",
    ),
    attempt: integer({ min: 1 }),
    worker: described(string({ min: 1, max: 128 }), "Which worker instance wrote it."),
  }),
);
export type GenerationLogEntry = Infer<typeof generationLogEntry>;

/** `GET /internal/users/{user}/generations`: one page of the history, newest first. */
export const historyPage = named("HistoryPage", object({ items: array(generationRecord, { max: 1000 }) }));
/** `GET /internal/users/{user}/generations/{id}/logs`. */
export const historyLogs = named("HistoryLogs", object({ entries: array(generationLogEntry) }));

/** A generation served from the history: ended, so no live events remain (`seq` 0). */
export function recordToSnapshot(record: GenerationRecord): GenerationSnapshot {
  const out: GenerationSnapshot = {
    id: record.id,
    status: record.status,
    progress: 100,
    stage: "done",
    attempts: record.attempts,
    params: record.params,
    createdAt: record.createdAt,
    completedAt: record.completedAt,
    seq: 0,
  };
  if (record.timings) {
    out.startedAt = new Date(Date.parse(record.createdAt) + record.timings.queuedMs).toISOString();
    out.timings = record.timings;
  }
  if (record.image) out.image = toPublicImage(record.image);
  if (record.thumbnail) out.thumbnail = toPublicImage(record.thumbnail);
  if (record.error) {
    // Rows written before messages were fixed may hold what went wrong in particular: never shown.
    const code = toGenerationErrorCode(record.error.code);
    out.error = { code, message: GENERATION_ERROR_MESSAGES[code], retryable: record.error.retryable };
  }
  return out;
}
