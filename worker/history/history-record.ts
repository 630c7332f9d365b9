/**
 * Terminal events → table rows and back. Dialect-free: both repositories in history-db.ts
 * store and read exactly these rows.
 */
import { PipelineError } from "../../shared/errors.ts";
import { type CompleteEvent, type FailedEvent, generationError, imageRef } from "../../shared/events/events.ts";
import { type GenerationParams, generationParams } from "../../shared/events/params.ts";
import { formatIssues, type Infer, type Schema } from "../../shared/schema/schema.ts";
import { uuidv7Time } from "../../shared/uuid7.ts";
import type { GenerationRow, HistoryStatus } from "./history-schema.ts";

export type ImageRef = Infer<typeof imageRef>;
export type GenerationError = Infer<typeof generationError>;

export interface GenerationRecord {
  id: string;
  userId: string;
  status: HistoryStatus;
  params: GenerationParams;
  image: ImageRef | null;
  error: GenerationError | null;
  attempts: number;
  createdAt: string;
  /** When the generation ended: `completedAt` of a complete event, `failedAt` of a failed one. */
  completedAt: string;
}

export type TerminalEvent = CompleteEvent | FailedEvent;

export function rowOf(event: TerminalEvent): GenerationRow {
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
    };
  }
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
  };
}

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

export function recordOf(row: GenerationRow): GenerationRecord {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    params: column(row, "params", row.params, generationParams),
    image: row.image === null ? null : column(row, "image", row.image, imageRef),
    error: row.error === null ? null : column(row, "error", row.error, generationError),
    attempts: row.attempts,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
  };
}
