/**
 * The twin's live side behind our WebSocket routes (worker/ws/ws-routes.ts): the snapshot comes
 * from the BullMQ job, live messages from one QueueEvents reader per process (BullMQ's event
 * stream), dispatched to the sockets watching that job. The messages are shared/ws-messages.ts's.
 */
import type { RequestEvent } from "../../shared/events/events.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { StoredSnapshot } from "../../shared/snapshot.ts";
import type {
  CompletedMessage,
  EventMessage,
  FailedMessage,
  PreviewMessage,
  StatusMessage,
} from "../../shared/ws-messages.ts";
import type { Fanout, Listener } from "../../worker/ws/fanout.ts";
import type { FeedReader } from "../../worker/ws/feed-reader.ts";
import type { Job, TwinJobQueue, TwinQueueEvents } from "../bullmq-side.ts";

export type TwinJob = Job<RequestEvent, CompletedMessage>;

/** What the processor stores as the job's progress: the last status or preview message it sent. */
const lastProgress = (job: TwinJob): StatusMessage | PreviewMessage | null =>
  typeof job.progress === "object" && job.progress !== null
    ? (job.progress as unknown as StatusMessage | PreviewMessage)
    : null;

/** The processor fails a job with its public error as JSON (generation-processor.ts). */
export function failedMessage(job: TwinJob, reason: string): FailedMessage {
  let error: FailedMessage["error"];
  try {
    error = JSON.parse(reason) as FailedMessage["error"];
  } catch {
    error = { code: "internal", message: reason || "generation failed", retryable: false };
  }
  return {
    type: "failed",
    id: job.id ?? "",
    seq: (lastProgress(job)?.seq ?? 0) + 1,
    error,
    attempts: job.attemptsMade,
  };
}

export function bullmqFeedReader(queue: TwinJobQueue): FeedReader {
  return {
    /** One read of the job's hash: finished jobs carry their result or reason, started ones their last progress. */
    async snapshot(id) {
      const job = (await queue.getJob(id)) as TwinJob | undefined;
      if (!job) return null;
      const request = job.data;
      const last = lastProgress(job);
      const base: StoredSnapshot = {
        id,
        userId: request.userId,
        status: "queued",
        progress: 0,
        stage: "queued",
        attempts: job.attemptsMade,
        params: request.params,
        createdAt: request.createdAt,
        seq: last?.seq ?? 0,
        kseq: 0,
        ...(job.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}),
      };
      const done = { progress: 100, stage: "done" as const, completedAt: new Date(job.finishedOn ?? 0).toISOString() };
      if (job.finishedOn && job.returnvalue)
        return { ...base, ...done, status: "completed", seq: job.returnvalue.seq, image: job.returnvalue.image };
      if (job.finishedOn) {
        const failed = failedMessage(job, job.failedReason);
        return { ...base, ...done, status: "failed", seq: failed.seq, error: failed.error };
      }
      if (last?.type === "preview")
        // One progress value per job: a status sent after a preview drops it (ours keeps it until the outcome).
        return { ...base, status: "processing", progress: last.progress, stage: last.stage, preview: last.preview };
      return last ? { ...base, status: last.status, progress: last.progress, stage: last.stage } : base;
    },
    // BullMQ's wait list has no cheap rank per job, and ours reports a rank only for Kafka partitions.
    queuePosition: async () => undefined,
    // BullMQ keeps no per-job event log: a client that missed a message cannot be given it again.
    eventsAfter: async () => [],
  };
}

/** Our Fanout's interface over QueueEvents: every event of the queue arrives here; sockets watch one job each. */
export function queueEventsFanout(events: TwinQueueEvents, queue: TwinJobQueue, prefix: string): Fanout {
  const keys = redisKeys(prefix);
  const watchers = new Map<string, Set<Listener>>();
  const dispatch = (jobId: string, message: EventMessage) => {
    const listeners = watchers.get(keys.events(jobId));
    if (!listeners) return;
    const raw = JSON.stringify(message);
    for (const listener of listeners) listener(raw);
  };
  events.on("progress", ({ jobId, data }) => dispatch(jobId, data as unknown as StatusMessage | PreviewMessage));
  events.on("completed", ({ jobId, returnvalue }) => dispatch(jobId, returnvalue as unknown as CompletedMessage));
  events.on("failed", ({ jobId, failedReason }) => {
    if (!watchers.has(keys.events(jobId))) return;
    void queue.getJob(jobId).then((job) => job && dispatch(jobId, failedMessage(job as TwinJob, failedReason)));
  });
  return {
    async watch(channel, listener) {
      const set = watchers.get(channel) ?? new Set<Listener>();
      watchers.set(channel, set.add(listener));
      return async () => {
        set.delete(listener);
        if (set.size === 0 && watchers.get(channel) === set) watchers.delete(channel);
      };
    },
    // QueueEvents reconnects and resumes its stream by itself: nothing to read again here.
    resubscribed: () => {},
    channels: () => watchers.size,
  };
}
