/**
 * The twin's BullMQ processor: the same provider, image store and progress rule as ours
 * (worker/generation/run-generation.ts), written the way BullMQ is meant to be used: progress
 * through `job.updateProgress`, the result as the return value, retries by BullMQ's attempts.
 */
import { isRetryable, PipelineError } from "../../shared/errors.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { type Stage, toGenerationErrorCode } from "../../shared/job-states.ts";
import { formatIssues } from "../../shared/schema/schema.ts";
import type { CompletedMessage, PreviewMessage, StatusMessage } from "../../shared/ws-messages.ts";
import { throttledPreviews } from "../../worker/generation/preview.ts";
import type { GenerationProvider } from "../../worker/generation/provider.ts";
import { storeImage } from "../../worker/generation/store-image.ts";
import type { ImageStore } from "../../worker/images/image-store.ts";
import { UnrecoverableError } from "../bullmq-side.ts";
import type { TwinJob } from "./live-feed.ts";

export interface ProcessorDeps {
  provider: GenerationProvider;
  store: ImageStore;
  imageUrl(key: string): string;
  policy: { timeoutMs: number; progressIntervalMs: number };
}

const ms = (from: string | number, to: number) =>
  Math.max(0, Math.round(to - (typeof from === "string" ? Date.parse(from) : from)));

/** A failure as the failed message carries it; BullMQ retries unless it is unrecoverable. */
function failure(error: unknown, timedOut: boolean, timeoutMs: number): Error {
  const detail = timedOut
    ? { code: "timeout", message: `generation exceeded ${timeoutMs} ms`, retryable: false }
    : {
        code: toGenerationErrorCode(error instanceof PipelineError ? error.code : "internal"),
        message: (error instanceof Error ? error.message : String(error)).slice(0, 2000) || "generation failed",
        retryable: isRetryable(error),
      };
  return detail.retryable ? new Error(JSON.stringify(detail)) : new UnrecoverableError(JSON.stringify(detail));
}

export function generationProcessor(deps: ProcessorDeps) {
  return async (job: TwinJob): Promise<CompletedMessage> => {
    const startedAt = Date.now();
    const parsed = RequestEvent.parse(job.data);
    if (!parsed.ok) throw new UnrecoverableError(`invalid request: ${formatIssues(parsed.issues)}`);
    const request = parsed.value;
    // A retry goes on from the seq the last attempt reached, so clients see no number twice.
    let seq = (job.progress as unknown as StatusMessage | PreviewMessage | null)?.seq ?? 0;
    const timeout = AbortSignal.timeout(deps.policy.timeoutMs);
    let chain: Promise<void> = Promise.resolve();
    const send = (message: StatusMessage | PreviewMessage) => {
      chain = chain.then(() => job.updateProgress(message as unknown as object));
    };
    let current = { stage: "started" as Stage, progress: 5 };
    const status = (stage: Stage, progress: number) => {
      current = { stage, progress };
      send({
        type: "status",
        id: request.id,
        seq: ++seq,
        status: "processing",
        stage,
        progress,
        at: new Date().toISOString(),
      });
    };
    // Ours' preview rule, the same function run-generation.ts uses.
    let rendering = true;
    const onPreview = throttledPreviews({
      intervalMs: deps.policy.progressIntervalMs,
      stopped: () => timeout.aborted || !rendering,
      send(made) {
        const preview = { url: `data:image/webp;base64,${made.data}`, width: made.width, height: made.height };
        send({ type: "preview", id: request.id, seq: ++seq, preview, ...current, at: new Date().toISOString() });
      },
    });

    try {
      status("started", 5);
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
          lastStage = stage;
          lastProgressAt = now;
          status(stage, progress);
        },
      });
      rendering = false;
      const generationMs = ms(began, Date.now());
      status("storing", 95);
      // Thumbnails too, as the product stores them.
      const stored = await storeImage(deps.store, image, deps.imageUrl);
      const pick = ({ url, width, height, format, bytes }: typeof stored.image) => ({
        url,
        width,
        height,
        format,
        bytes,
      });
      await chain;
      const now = Date.now();
      return {
        type: "completed",
        id: request.id,
        seq: ++seq,
        image: pick(stored.image),
        thumbnail: pick(stored.thumbnail),
        timings: { queuedMs: ms(request.createdAt, startedAt), generationMs, totalMs: ms(request.createdAt, now) },
      };
    } catch (error) {
      rendering = false;
      await chain.catch(() => {});
      throw failure(error, timeout.aborted, deps.policy.timeoutMs);
    }
  };
}
