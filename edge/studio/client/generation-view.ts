/**
 * What a tile shows of one generation: its snapshot, advanced by the live messages in order.
 * Pure, so the rules (stale messages ignored, a preview gives way to the image) are tested apart
 * from the browser (generation-view.test.ts).
 */
import type { AcceptedGeneration } from "../../../shared/api-bodies.ts";
import { isTerminal } from "../../../shared/job-states.ts";
import type { GenerationSnapshot } from "../../../shared/snapshot.ts";
import type { ServerMessage } from "../../../shared/ws-messages.ts";

export type GenerationView = GenerationSnapshot;

/** The view of a generation just accepted (the 202 carries no progress yet). */
export function acceptedView(accepted: AcceptedGeneration): GenerationView {
  const { links: _links, ...rest } = accepted;
  return { ...rest, progress: 0, stage: "queued", attempts: 0, seq: 0 };
}

/** The view after `message`; one older than what the view already holds changes nothing. */
export function advance(view: GenerationView, message: ServerMessage): GenerationView {
  if (message.type === "snapshot") {
    const { type: _type, ...snapshot } = message;
    return snapshot.seq >= view.seq ? snapshot : view;
  }
  if (message.seq <= view.seq || isTerminal(view.status)) return view;
  const seq = message.seq;
  switch (message.type) {
    case "status": {
      const next: GenerationView = {
        ...view,
        seq,
        status: message.status,
        progress: message.progress,
        stage: message.stage,
      };
      // Started: no longer in the queue, so no position to show.
      if (message.status !== "queued") delete next.queuePosition;
      if (message.status === "processing" && !next.startedAt) next.startedAt = message.at;
      return next;
    }
    case "preview":
      return {
        ...view,
        seq,
        status: "processing",
        progress: message.progress,
        stage: message.stage,
        preview: message.preview,
      };
    case "completed": {
      const { preview: _preview, queuePosition: _position, ...rest } = view;
      return {
        ...rest,
        seq,
        status: "completed",
        progress: 100,
        stage: "done",
        image: message.image,
        ...(message.thumbnail ? { thumbnail: message.thumbnail } : {}),
        timings: message.timings,
      };
    }
    case "failed": {
      const { preview: _preview, queuePosition: _position, ...rest } = view;
      return { ...rest, seq, status: "failed", stage: "done", error: message.error, attempts: message.attempts };
    }
    case "canceled":
    case "expired": {
      const { preview: _preview, queuePosition: _position, ...rest } = view;
      return { ...rest, seq, status: message.type, stage: "done" };
    }
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** One line of where it is: state, stage, queue position, progress. */
export function describeState(view: GenerationView): string {
  if (view.status === "queued") {
    const ahead = view.queuePosition;
    if (ahead === undefined) return "Queued";
    return ahead === 0 ? "Queued · next to start" : `Queued · ${ahead} ${ahead === 1 ? "request" : "requests"} ahead`;
  }
  if (view.status === "processing") return `Processing · ${view.stage} · ${view.progress}%`;
  if (view.status === "completed") return "Completed";
  if (view.status === "failed") return `Failed: ${view.error?.message ?? "unknown error"}`;
  if (view.status === "canceled") return "Canceled";
  return "Expired: not started before its deadline";
}

/** The timings line: the phases once completed, the time so far while it has not ended. */
export function describeTimings(view: GenerationView, now: number): string {
  if (view.timings)
    return `Waited ${seconds(view.timings.queuedMs)} · made in ${seconds(view.timings.generationMs)} · total ${seconds(view.timings.totalMs)}`;
  if (isTerminal(view.status)) return "";
  const since = Date.parse(view.startedAt ?? view.createdAt);
  return `${view.startedAt ? "Running for" : "Waiting for"} ${seconds(Math.max(0, now - since))}`;
}

/** The tile's accessible name: what was asked for. */
export const describeParams = (view: GenerationView) =>
  `${view.params.style}, ${view.params.width}×${view.params.height} ${view.params.format}`;
