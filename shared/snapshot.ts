import { generationError, imageRef, type RequestEvent } from "./events/events.ts";
import { generationParams } from "./events/params.ts";
import { GENERATION_ERROR_MESSAGES, JOB_STATUSES, STAGES } from "./job-states.ts";
import { described, type Infer, integer, isoDate, named, object, oneOf, optional, string } from "./schema/schema.ts";
import { UUID_V7 } from "./uuid7.ts";

export const generationId = described(
  string({ pattern: UUID_V7, patternMessage: "must be a UUIDv7" }),
  "A UUIDv7: time-sortable.",
);

/** The image as clients see it: the stored image reference without its key and digest. */
const { key: _key, sha256: _sha256, ...publicImageShape } = imageRef.shape;
export const publicImage = named("Image", object(publicImageShape));
export type PublicImage = Infer<typeof publicImage>;

/** What clients see of a failure: the code's one fixed message, never what went wrong in particular. */
export const publicError = named(
  "GenerationError",
  object({
    ...generationError.shape,
    message: described(
      generationError.shape.message,
      `The code's fixed message: ${Object.entries(GENERATION_ERROR_MESSAGES)
        .map(([code, message]) => `\`${code}\` "${message}"`)
        .join(", ")}. What went wrong in particular goes to the worker's log.`,
    ),
  }),
);
export type GenerationError = Infer<typeof publicError>;

/** The body of `GET /api/generations/{id}` (docs/api.md); fields that do not apply are absent. */
export const snapshotShape = {
  id: generationId,
  status: oneOf(JOB_STATUSES),
  progress: integer({ min: 0, max: 100 }),
  stage: oneOf(STAGES),
  queuePosition: optional(
    described(integer({ min: 0 }), "While queued: requests ahead of this one in its partition that no worker started."),
  ),
  attempts: integer({ min: 0 }),
  params: named("GenerationParams", generationParams),
  createdAt: isoDate(),
  startedAt: optional(isoDate()),
  completedAt: optional(isoDate()),
  image: optional(publicImage),
  error: optional(publicError),
  seq: described(integer({ min: 0 }), "How many status events have been applied: the live stream's sequence."),
};
export const generationSnapshot = named("Generation", object(snapshotShape));
export type GenerationSnapshot = Infer<typeof generationSnapshot>;

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

/**
 * The queued snapshot a request event implies; the edge writes the same one on submit, first
 * without the Kafka position (not known before the produce), then with it.
 */
export function queuedSnapshot(event: RequestEvent, at?: { partition: number; offset: string }): StoredSnapshot {
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
    ...at,
    ...(event.webhookUrl ? { webhookUrl: event.webhookUrl } : {}),
  };
}
