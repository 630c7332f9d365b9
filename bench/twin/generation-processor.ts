/**
 * The twin's BullMQ processor: the same provider, image store and progress rule as ours
 * (worker/generation/run-generation.ts), written the way BullMQ is meant to be used: progress
 * through `job.updateProgress`, the result as the return value, retries by BullMQ's attempts.
 */
import { isRetryable, PipelineError } from "../../shared/errors.ts";
import { CompleteEvent, FailedEvent, RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import {
  GENERATION_ERROR_MESSAGES,
  type GenerationLogLevel,
  type JobStatus,
  type Stage,
  toGenerationErrorCode,
} from "../../shared/job-states.ts";
import { formatIssues } from "../../shared/schema/schema.ts";
import { toPublicImage } from "../../shared/snapshot.ts";
import type { CompletedMessage, PreviewMessage, StatusMessage } from "../../shared/ws-messages.ts";
import { logLine } from "../../worker/generation/generation-reporter.ts";
import { throttledPreviews } from "../../worker/generation/preview.ts";
import type { GenerationProvider } from "../../worker/generation/provider.ts";
import { storeImage } from "../../worker/generation/store-image.ts";
import type { ImageStore } from "../../worker/images/image-store.ts";
import { UnrecoverableError } from "../bullmq-side.ts";
import type { TwinJob } from "./live-feed.ts";
import type { TwinEndings } from "./twin-endings.ts";

export interface ProcessorDeps {
  provider: GenerationProvider;
  store: ImageStore;
  imageUrl(key: string): string;
  policy: { timeoutMs: number; progressIntervalMs: number };
  /** Where each generation's ending goes: its snapshot and history, as ours keeps them. */
  endings: Pick<TwinEndings, "ended" | "logged">;
  workerId: string;
}

const ms = (from: string | number, to: number) =>
  Math.max(0, Math.round(to - (typeof from === "string" ? Date.parse(from) : from)));

/** A failure as the failed message carries it: as ours, the code's fixed message, never the error's text. */
function failureDetail(error: unknown, timedOut: boolean) {
  const code = timedOut ? "timeout" : toGenerationErrorCode(error instanceof PipelineError ? error.code : "internal");
  return { code, message: GENERATION_ERROR_MESSAGES[code], retryable: !timedOut && isRetryable(error) };
}

export function generationProcessor(deps: ProcessorDeps) {
  return async (job: TwinJob): Promise<CompletedMessage> => {
    const startedAt = Date.now();
    const parsed = RequestEvent.parse(job.data);
    if (!parsed.ok) throw new UnrecoverableError(`invalid request: ${formatIssues(parsed.issues)}`);
    const request = parsed.value;
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    // Ours' log lines (run-generation.ts), kept for the history row's logs.
    const logs: StatusEvent[] = [];
    const log = (
      status: JobStatus,
      level: GenerationLogLevel,
      message: string,
      at: string,
      extra: Partial<StatusEvent> = {},
    ) => {
      const event = StatusEvent.create({
        id: request.id,
        userId: request.userId,
        seq,
        status,
        ...current,
        at,
        workerId: deps.workerId,
        attempt,
        log: logLine(level, message),
        ...extra,
      });
      logs.push(event);
      return event;
    };
    // A retry goes on from the seq the last attempt reached, so clients see no number twice.
    let seq = (job.progress as unknown as StatusMessage | PreviewMessage | null)?.seq ?? 0;
    const timeout = AbortSignal.timeout(deps.policy.timeoutMs);
    let chain: Promise<void> = Promise.resolve();
    const send = (message: StatusMessage | PreviewMessage) => {
      chain = chain.then(() => job.updateProgress(message as unknown as object));
    };
    let current = { stage: "started" as Stage, progress: 5 };
    const status = (stage: Stage, progress: number, note?: string, level: GenerationLogLevel = "info") => {
      current = { stage, progress };
      const at = new Date().toISOString();
      send({ type: "status", id: request.id, seq: ++seq, status: "processing", stage, progress, at });
      if (note) log("processing", level, note, at);
    };
    // Ours' preview rule, the same function run-generation.ts uses.
    let rendering = true;
    const onPreview = throttledPreviews({
      intervalMs: deps.policy.progressIntervalMs,
      stopped: () => timeout.aborted || !rendering,
      send(made) {
        const preview = { url: `data:image/webp;base64,${made.data}`, width: made.width, height: made.height };
        const at = new Date().toISOString();
        send({ type: "preview", id: request.id, seq: ++seq, preview, ...current, at });
        const note = `preview ${made.width}×${made.height}, ${Math.ceil((made.data.length * 3) / 4)} bytes`;
        log("processing", "info", note, at);
      },
    });

    let made: { stored: Awaited<ReturnType<typeof storeImage>>; generationMs: number };
    try {
      status("started", 5, `attempt ${attempt}${attempts > 1 ? ` of ${attempts}` : ""} started`);
      const began = Date.now();
      let lastStage: Stage | null = null;
      let lastProgressAt = 0;
      const image = await deps.provider.generate({
        params: request.params,
        signal: timeout,
        onPreview,
        onStage: (stage, progress) => {
          // Ours' rule: a new stage always goes out, progress within a stage at most every interval.
          const now = Date.now();
          if (stage === lastStage && now - lastProgressAt < deps.policy.progressIntervalMs) return;
          const note = stage === lastStage ? undefined : stage;
          lastStage = stage;
          lastProgressAt = now;
          status(stage, progress, note);
        },
      });
      rendering = false;
      const generationMs = ms(began, Date.now());
      status("storing", 95, "storing");
      // Thumbnails too, as the product stores them.
      made = { stored: await storeImage(deps.store, image, deps.imageUrl), generationMs };
      await chain;
    } catch (error) {
      rendering = false;
      const thrown = failed(error, timeout.aborted);
      await chain.catch(() => {});
      throw thrown;
    }

    const { stored, generationMs } = made;
    const now = Date.now();
    const timings = { queuedMs: ms(request.createdAt, startedAt), generationMs, totalMs: ms(request.createdAt, now) };
    const completedAt = new Date(now).toISOString();
    const { width, height, format, bytes } = stored.image;
    current = { stage: "done", progress: 100 };
    seq++;
    const done = `completed: ${width}×${height} ${format}, ${bytes} bytes; generation ${generationMs} ms`;
    const ending = log("completed", "info", done, completedAt, { ...stored, timings });
    const { userId, params } = request;
    const end = { id: request.id, userId, params, ...stored, timings, attempts: attempt, completedAt };
    deps.endings.ended(CompleteEvent.create(end), ending, logs);
    return {
      type: "completed",
      id: request.id,
      seq,
      image: toPublicImage(stored.image),
      thumbnail: toPublicImage(stored.thumbnail),
      timings,
    };

    /** The error BullMQ gets: it retries unless unrecoverable; the last attempt's failure is history. */
    function failed(error: unknown, timedOut: boolean): Error {
      const detail = failureDetail(error, timedOut);
      const reason = JSON.stringify(detail);
      if (detail.retryable && attempt < attempts) {
        // As ours, a status event of its own: the line takes a seq no other line has.
        const why = `attempt ${attempt} failed: ${detail.code}: ${detail.message}; retrying`;
        status(current.stage, current.progress, why, "warn");
        deps.endings.logged(logs);
        return new Error(reason);
      }
      const at = new Date().toISOString();
      current = { stage: "done", progress: 100 };
      seq++;
      const note = `failed after ${attempt} attempt(s): ${detail.code}: ${detail.message}`;
      const ending = log("failed", "error", note, at, { error: detail });
      const end = { id: request.id, userId: request.userId, request, error: detail, attempts: attempt, failedAt: at };
      deps.endings.ended(FailedEvent.create(end), ending, logs);
      return detail.retryable ? new Error(reason) : new UnrecoverableError(reason);
    }
  };
}
