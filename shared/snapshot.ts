import type { RequestEvent } from "./events/events.ts";
import type { GenerationParams } from "./events/params.ts";
import type { ImageFormat, JobStatus, Stage } from "./job-states.ts";

export interface PublicImage {
  url: string;
  width: number;
  height: number;
  format: ImageFormat;
  bytes: number;
}

export interface GenerationError {
  code: string;
  message: string;
  retryable: boolean;
}

/** The body of `GET /api/generations/{id}` (API.md); fields that do not apply are absent. */
export interface GenerationSnapshot {
  id: string;
  status: JobStatus;
  progress: number;
  stage: Stage;
  queuePosition?: number;
  attempts: number;
  params: GenerationParams;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  image?: PublicImage;
  error?: GenerationError;
  seq: number;
}

/**
 * What Redis holds per generation: the public snapshot plus the owner, the producer-side
 * sequence last applied (`kseq`) and where the request sits in Kafka (for queue position).
 */
export interface StoredSnapshot extends GenerationSnapshot {
  userId: string;
  kseq: number;
  partition?: number;
  offset?: string;
  /** Where the terminal state is POSTed (never shown to clients). */
  webhookUrl?: string;
}

export function toPublicSnapshot(stored: StoredSnapshot, queuePosition?: number): GenerationSnapshot {
  const { userId: _u, kseq: _k, partition: _p, offset: _o, webhookUrl: _w, ...rest } = stored;
  const out: GenerationSnapshot = { ...rest };
  if (rest.image) {
    const { url, width, height, format, bytes } = rest.image;
    out.image = { url, width, height, format, bytes };
  }
  if (stored.status === "queued" && queuePosition !== undefined) out.queuePosition = queuePosition;
  else delete out.queuePosition;
  return out;
}

/** The queued snapshot a request event implies; the edge writes the same one on submit. */
export function queuedSnapshot(event: RequestEvent, partition: number, offset: string): StoredSnapshot {
  return {
    id: event.id,
    userId: event.userId,
    status: "queued",
    progress: 0,
    stage: "queued",
    attempts: 0,
    params: event.params,
    createdAt: event.createdAt,
    seq: 0,
    kseq: 0,
    partition,
    offset,
    ...(event.webhookUrl ? { webhookUrl: event.webhookUrl } : {}),
  };
}
