/**
 * The durable history's records as the container tier serves them to the edge (worker/http/
 * history-routes.ts), and how a record reads as the public generation.
 */
import type { GenerationError, ImageRef, Timings } from "./events/events.ts";
import type { GenerationParams } from "./events/params.ts";
import type { Ending, GenerationLogLevel } from "./job-states.ts";
import type { GenerationSnapshot, PublicImage } from "./snapshot.ts";

export interface GenerationRecord {
  id: string;
  userId: string;
  status: Ending;
  params: GenerationParams;
  image: ImageRef | null;
  thumbnail: ImageRef | null;
  error: GenerationError | null;
  timings: Timings | null;
  attempts: number;
  createdAt: string;
  /** When the generation ended: `completedAt` of a complete event, `failedAt` of a failed one, `at` of the rest. */
  completedAt: string;
}

/** A line of a generation's log, as `GET /api/generations/{id}/logs` lists it. */
export interface GenerationLogEntry {
  at: string;
  level: GenerationLogLevel;
  message: string;
  attempt: number;
  worker: string;
}

const publicImage = ({ url, width, height, format, bytes }: ImageRef): PublicImage => ({
  url,
  width,
  height,
  format,
  bytes,
});

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
  if (record.image) out.image = publicImage(record.image);
  if (record.thumbnail) out.thumbnail = publicImage(record.thumbnail);
  if (record.error) out.error = record.error;
  return out;
}
