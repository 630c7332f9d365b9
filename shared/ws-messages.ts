import { timings } from "./events/events.ts";
import { JOB_STATUSES, STAGES } from "./job-states.ts";
import { discriminated, type Infer, integer, isoDate, literal, named, object, oneOf } from "./schema/schema.ts";
import { generationId, publicError, publicImage, snapshotShape } from "./snapshot.ts";

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
export const completedMessage = named(
  "CompletedMessage",
  object({ type: literal("completed"), id: generationId, seq, image: publicImage, timings: named("Timings", timings) }),
);
export const failedMessage = named(
  "FailedMessage",
  object({ type: literal("failed"), id: generationId, seq, error: publicError, attempts: integer({ min: 1 }) }),
);
export const canceledMessage = named("CanceledMessage", object({ type: literal("canceled"), id: generationId, seq }));

export const serverMessage = named(
  "ServerMessage",
  discriminated("type", [snapshotMessage, statusMessage, completedMessage, failedMessage, canceledMessage]),
);

export type SnapshotMessage = Infer<typeof snapshotMessage>;
export type StatusMessage = Infer<typeof statusMessage>;
export type CompletedMessage = Infer<typeof completedMessage>;
export type FailedMessage = Infer<typeof failedMessage>;
export type CanceledMessage = Infer<typeof canceledMessage>;
export type EventMessage = StatusMessage | CompletedMessage | FailedMessage | CanceledMessage;
export type ServerMessage = Infer<typeof serverMessage>;

export const isTerminalMessage = (m: ServerMessage): boolean =>
  m.type === "completed" || m.type === "failed" || m.type === "canceled";
