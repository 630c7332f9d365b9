import type { Timings } from "./events/events.ts";
import type { JobStatus, Stage } from "./job-states.ts";
import type { GenerationError, GenerationSnapshot, PublicImage } from "./snapshot.ts";

/** Server → client messages of `GET /ws/generations/{id}` and the SSE stream (API.md). */
export type SnapshotMessage = { type: "snapshot" } & GenerationSnapshot;
export interface StatusMessage {
  type: "status";
  id: string;
  seq: number;
  status: JobStatus;
  progress: number;
  stage: Stage;
  at: string;
}
export interface CompletedMessage {
  type: "completed";
  id: string;
  seq: number;
  image: PublicImage;
  timings: Timings;
}
export interface FailedMessage {
  type: "failed";
  id: string;
  seq: number;
  error: GenerationError;
  attempts: number;
}
export interface CanceledMessage {
  type: "canceled";
  id: string;
  seq: number;
}
export type EventMessage = StatusMessage | CompletedMessage | FailedMessage | CanceledMessage;
export type ServerMessage = SnapshotMessage | EventMessage;

export const isTerminalMessage = (m: ServerMessage): boolean =>
  m.type === "completed" || m.type === "failed" || m.type === "canceled";
