import { generationError, imageRef, MAX_PREVIEW_BASE64, type RequestEvent, timings } from "./events/events.ts";
import { generationParams } from "./events/params.ts";
import {
  GENERATION_ERROR_MESSAGES,
  JOB_STATUSES,
  PRIORITIES,
  type Priority,
  priorityRank,
  STAGES,
  type WebhookEvent,
} from "./job-states.ts";
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

/** The latest low-resolution preview while a generation renders: a `data:` URL of a small WebP. */
export const publicPreview = named(
  "Preview",
  object({
    url: described(
      string({
        min: 1,
        max: MAX_PREVIEW_BASE64 + 32,
        pattern: /^data:image\/webp;base64,[A-Za-z0-9+/]+={0,2}$/,
        patternMessage: "must be a data: URL of a base64 WebP",
      }),
      "A `data:image/webp;base64,…` URL (a few KiB): it travels inside the message, so no image request is made.",
    ),
    width: integer({ min: 1, max: 512 }),
    height: integer({ min: 1, max: 512 }),
  }),
);
export type PublicPreview = Infer<typeof publicPreview>;

/** Per-phase durations of a completed generation. */
export const publicTimings = named("Timings", timings);

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
  priority: optional(
    described(
      oneOf(PRIORITIES),
      "The request's priority. Absent on generations served from the durable history (it is not kept there).",
    ),
  ),
  queuePosition: optional(
    described(
      integer({ min: 0 }),
      "While queued: requests ahead of this one in its partition that no worker started, more urgent ones first.",
    ),
  ),
  attempts: integer({ min: 0 }),
  params: named("GenerationParams", generationParams),
  createdAt: isoDate(),
  startDeadline: optional(
    described(isoDate(), "From `Cancel-After`: a worker must start it by then, else it ends `expired` unrun."),
  ),
  startedAt: optional(isoDate()),
  completedAt: optional(isoDate()),
  image: optional(publicImage),
  thumbnail: optional(
    described(publicImage, "A WebP whose longest side is 256 px, stored beside the image (completed only)."),
  ),
  preview: optional(
    described(publicPreview, "While processing, once the provider sent one; gone when the generation ends."),
  ),
  error: optional(publicError),
  timings: optional(publicTimings),
  seq: described(
    integer({ min: 0 }),
    "How many status events have been applied: the live stream's sequence. 0 for a generation served from the " +
      "durable history (no live events remain).",
  ),
};
export const generationSnapshot = named("Generation", object(snapshotShape));
export type GenerationSnapshot = Infer<typeof generationSnapshot>;

/**
 * What Redis holds per generation: the public snapshot plus the owner, the producer-side
 * sequence last applied (`kseq`), where the request sits in Kafka (for queue position) and the
 * webhook settings.
 */
export interface StoredSnapshot extends GenerationSnapshot {
  userId: string;
  kseq: number;
  partition?: number;
  offset?: string;
  /** Where events are POSTed (never shown to clients). */
  webhookUrl?: string;
  webhookEvents?: WebhookEvent[];
  /** When the last `progress` webhook was queued (Unix ms), for the throttle. */
  webhookProgressAt?: number;
  /** `seq` of the latest event the webhook asked for (worker/webhooks/lease-scripts.ts's SETTLE). */
  webhookQueuedSeq?: number;
  /** Store keys of the image and thumbnail, so a deletion removes the files. */
  imageKey?: string;
  thumbnailKey?: string;
}

/** An image as clients see it: without its storage key and digest. */
export const toPublicImage = ({ url, width, height, format, bytes }: PublicImage): PublicImage => ({
  url,
  width,
  height,
  format,
  bytes,
});

/** The public view: listed fields only, so nothing internal (owner, webhook, Kafka position) leaks. */
export function toPublicSnapshot(stored: StoredSnapshot, queuePosition?: number): GenerationSnapshot {
  const out: GenerationSnapshot = {
    id: stored.id,
    status: stored.status,
    progress: stored.progress,
    stage: stored.stage,
    attempts: stored.attempts,
    params: stored.params,
    createdAt: stored.createdAt,
    seq: stored.seq,
  };
  if (stored.priority) out.priority = stored.priority;
  if (stored.status === "queued" && queuePosition !== undefined) out.queuePosition = queuePosition;
  if (stored.startDeadline) out.startDeadline = stored.startDeadline;
  if (stored.startedAt) out.startedAt = stored.startedAt;
  if (stored.completedAt) out.completedAt = stored.completedAt;
  if (stored.image) out.image = toPublicImage(stored.image);
  if (stored.thumbnail) out.thumbnail = toPublicImage(stored.thumbnail);
  if (stored.preview && stored.status === "processing") {
    const { url, width, height } = stored.preview;
    out.preview = { url, width, height };
  }
  if (stored.error) out.error = stored.error;
  if (stored.timings) out.timings = stored.timings;
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
    priority: event.priority ?? "normal",
    attempts: 0,
    params: event.params,
    createdAt: event.createdAt,
    seq: 0,
    kseq: 0,
    ...at,
    ...(event.startDeadline ? { startDeadline: event.startDeadline } : {}),
    ...(event.webhookUrl ? { webhookUrl: event.webhookUrl } : {}),
    ...(event.webhookEvents ? { webhookEvents: event.webhookEvents } : {}),
  };
}

/**
 * Score of a queued request in its partition's queue (`queue:{partition}`): priority first, then
 * Kafka order, so `queuePosition` counts what workers will take before it. Offsets stay far
 * below the step (10^15), and both fit a double exactly. The relay's Lua computes the same.
 */
export const QUEUE_PRIORITY_STEP = 1e15;
export const queueScore = (priority: Priority | undefined, offset: string): number =>
  priorityRank(priority) * QUEUE_PRIORITY_STEP + Number(offset);
