/**
 * Events → table rows and back. Dialect-free: both repositories in history-db.ts store and read
 * exactly these rows.
 */
import { PipelineError } from "../../shared/errors.ts";
import {
  type CompleteEvent,
  type FailedEvent,
  generationError,
  imageRef,
  type StatusEvent,
  timings as timingsSchema,
} from "../../shared/events/events.ts";
import { generationParams } from "../../shared/events/params.ts";
import type { GenerationLogEntry, GenerationRecord } from "../../shared/history.ts";
import { formatIssues, type Schema } from "../../shared/schema/schema.ts";
import { uuidv7Time } from "../../shared/uuid7.ts";
import type { GenerationLogRow, GenerationRow } from "./history-schema.ts";

export type { GenerationLogEntry, GenerationRecord } from "../../shared/history.ts";

/** Complete and failed events, and the `canceled`/`expired` status events (which carry their request). */
export type TerminalEvent = CompleteEvent | FailedEvent | StatusEvent;

const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));

/** The row an event ends a generation with, or null when the event does not end one the history keeps. */
export function rowOf(event: TerminalEvent): GenerationRow | null {
  if ("failedAt" in event) {
    return {
      id: event.id,
      userId: event.userId,
      status: "failed",
      params: JSON.stringify(event.request.params),
      image: null,
      error: JSON.stringify(event.error),
      attempts: event.attempts,
      createdAt: event.request.createdAt,
      completedAt: event.failedAt,
      thumbnail: null,
      timings: null,
      imageKey: null,
      thumbnailKey: null,
    };
  }
  if ("completedAt" in event) {
    return {
      id: event.id,
      userId: event.userId,
      status: "completed",
      params: JSON.stringify(event.params),
      image: JSON.stringify(event.image),
      error: null,
      attempts: event.attempts,
      // A complete event carries no createdAt; the edge mints the UUIDv7 id in the same moment.
      createdAt: new Date(uuidv7Time(event.id)).toISOString(),
      completedAt: event.completedAt,
      thumbnail: json(event.thumbnail),
      timings: JSON.stringify(event.timings),
      imageKey: event.image.key,
      thumbnailKey: event.thumbnail?.key ?? null,
    };
  }
  if ((event.status !== "canceled" && event.status !== "expired") || !event.request) return null;
  return {
    id: event.id,
    userId: event.userId,
    status: event.status,
    params: JSON.stringify(event.request.params),
    image: null,
    error: null,
    attempts: event.attempt,
    createdAt: event.request.createdAt,
    completedAt: event.at,
    thumbnail: null,
    timings: null,
    imageKey: null,
    thumbnailKey: null,
  };
}

/** The log row of a status event that carries a log line, else null. */
export function logRowOf(event: StatusEvent): GenerationLogRow | null {
  if (!event.log) return null;
  return {
    id: `${event.id}:${event.seq}`,
    generationId: event.id,
    seq: event.seq,
    at: event.at,
    level: event.log.level,
    message: event.log.message,
    attempt: event.attempt,
    worker: event.workerId,
  };
}

export const logEntryOf = (row: GenerationLogRow): GenerationLogEntry => ({
  at: row.at,
  level: row.level,
  message: row.message,
  attempt: row.attempt,
  worker: row.worker,
});

function column<T>(row: GenerationRow, name: string, text: string, schema: Schema<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = schema.parse(value, name);
  if (parsed.ok) return parsed.value;
  // Only this module writes the table, so a bad value means the data was changed outside it.
  throw new PipelineError("history_corrupt", `generation ${row.id}: ${formatIssues(parsed.issues)}`, {
    retryable: false,
  });
}

const optionalColumn = <T>(row: GenerationRow, name: string, text: string | null, schema: Schema<T>): T | null =>
  text === null ? null : column(row, name, text, schema);

export function recordOf(row: GenerationRow): GenerationRecord {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    params: column(row, "params", row.params, generationParams),
    image: optionalColumn(row, "image", row.image, imageRef),
    thumbnail: optionalColumn(row, "thumbnail", row.thumbnail, imageRef),
    error: optionalColumn(row, "error", row.error, generationError),
    timings: optionalColumn(row, "timings", row.timings, timingsSchema),
    attempts: row.attempts,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
  };
}
