import { JOB_STATUSES, STAGES } from "./job-states.ts";
import {
  described,
  discriminated,
  type Infer,
  integer,
  isoDate,
  literal,
  named,
  object,
  oneOf,
  optional,
} from "./schema/schema.ts";
import { generationId, publicError, publicImage, publicPreview, publicTimings, snapshotShape } from "./snapshot.ts";

/**
 * Server → client messages of `GET /ws/generations/{id}` and of the SSE stream
 * `GET /events/generations/{id}` (docs/api.md). The relay's Lua (shared/redis-scripts.ts) writes
 * the event messages; these schemas are what clients and the OpenAPI document rely on.
 */
const seq = integer({ min: 1 });

export const snapshotMessage = named("SnapshotMessage", object({ type: literal("snapshot"), ...snapshotShape }));
export const statusMessage = named(
  "StatusMessage",
  object({
    type: literal("status"),
    id: generationId,
    seq,
    status: oneOf(JOB_STATUSES),
    progress: integer({ min: 0, max: 100 }),
    stage: oneOf(STAGES),
    at: isoDate(),
  }),
);
/** A low-resolution preview while rendering; a later one replaces an earlier one. */
export const previewMessage = named(
  "PreviewMessage",
  object({
    type: literal("preview"),
    id: generationId,
    seq,
    preview: publicPreview,
    progress: integer({ min: 0, max: 100 }),
    stage: oneOf(STAGES),
    at: isoDate(),
  }),
);
export const completedMessage = named(
  "CompletedMessage",
  object({
    type: literal("completed"),
    id: generationId,
    seq,
    image: publicImage,
    thumbnail: optional(
      described(
        publicImage,
        "A WebP whose longest side is 256 px; absent only for generations completed before thumbnails were kept.",
      ),
    ),
    timings: publicTimings,
  }),
);
export const failedMessage = named(
  "FailedMessage",
  object({ type: literal("failed"), id: generationId, seq, error: publicError, attempts: integer({ min: 1 }) }),
);
export const canceledMessage = named("CanceledMessage", object({ type: literal("canceled"), id: generationId, seq }));
/** Not started before its start deadline (`Cancel-After`): it never ran. */
export const expiredMessage = named(
  "ExpiredMessage",
  object({
    type: literal("expired"),
    id: generationId,
    seq,
    startDeadline: described(isoDate(), "The deadline it missed."),
  }),
);

export const serverMessage = named(
  "ServerMessage",
  discriminated("type", [
    snapshotMessage,
    statusMessage,
    previewMessage,
    completedMessage,
    failedMessage,
    canceledMessage,
    expiredMessage,
  ]),
);

export type SnapshotMessage = Infer<typeof snapshotMessage>;
export type StatusMessage = Infer<typeof statusMessage>;
export type PreviewMessage = Infer<typeof previewMessage>;
export type CompletedMessage = Infer<typeof completedMessage>;
export type FailedMessage = Infer<typeof failedMessage>;
export type CanceledMessage = Infer<typeof canceledMessage>;
export type ExpiredMessage = Infer<typeof expiredMessage>;
export type EventMessage =
  | StatusMessage
  | PreviewMessage
  | CompletedMessage
  | FailedMessage
  | CanceledMessage
  | ExpiredMessage;
export type ServerMessage = Infer<typeof serverMessage>;

export const isTerminalMessage = (m: ServerMessage): boolean =>
  m.type === "completed" || m.type === "failed" || m.type === "canceled" || m.type === "expired";
