import { isRetryable, PipelineError } from "../../shared/errors.ts";
import { CompleteEvent, FailedEvent, type RequestEvent, type StatusEvent } from "../../shared/events/events.ts";
import {
  GENERATION_ERROR_MESSAGES,
  type GenerationErrorCode,
  type Stage,
  toGenerationErrorCode,
} from "../../shared/job-states.ts";
import type { Logger } from "../../shared/logger.ts";
import type { ImageStore } from "../images/image-store.ts";
import type { EventSink } from "./event-sink.ts";
import { createReporter, logLine } from "./generation-reporter.ts";
import type { GenerationState, TerminalRecord } from "./generation-state.ts";
import { throttledPreviews } from "./preview.ts";
import type { GenerationProvider } from "./provider.ts";
import { backoffMs, sleep, untilDone } from "./retry-policy.ts";
import { storeImage } from "./store-image.ts";

export type GenerationOutcome =
  | "completed"
  | "failed"
  | "canceled"
  | "expired"
  | "handed-back"
  | "duplicate"
  /** Deleted by its owner before this worker got to it: nothing to do, nothing written. */
  | "deleted";

export interface GenerationDeps {
  provider: GenerationProvider;
  store: ImageStore;
  state: GenerationState;
  sink: EventSink;
  /** See `ReporterDeps.applyLive`. */
  applyLive?(event: StatusEvent, after: number): Promise<boolean>;
  topics: { status: string; complete: string; failed: string };
  workerId: string;
  policy: { timeoutMs: number; maxAttempts: number; retryBaseMs: number; progressIntervalMs: number };
  imageUrl(key: string): string;
  /** Removes stored images of a generation deleted while it ran (unless another generation uses them). */
  discardImages(keys: string[], generationId: string): Promise<void>;
  /** Aborted when the worker shuts down: unfinished work is handed back, not failed. */
  shutdown: AbortSignal;
  /**
   * Hands this generation's slot to the next request once its outcome is claimed in Redis:
   * publishing it (Kafka acks=all writes) uses no provider capacity, and a retry after the claim
   * ends `duplicate` without running the provider again.
   */
  releaseSlot?(): void;
  onRetry?(error: unknown): void;
  logger: Logger;
}

class Canceled extends Error {}

const codeOf = (error: unknown): GenerationErrorCode =>
  error instanceof PipelineError ? toGenerationErrorCode(error.code) : "internal";

const ms = (from: string | number, to: number) =>
  Math.max(0, Math.round(to - (typeof from === "string" ? Date.parse(from) : from)));

/**
 * One request, start to end: status events in order, attempts with backoff for transient
 * errors, the timeout, cancel between stages, previews while rendering, a log line at each step,
 * and exactly one terminal outcome across all instances (claimed in Redis before it is
 * published). A request past its start deadline ends `expired` without running; one deleted by
 * its owner is dropped, and whatever this worker wrote after the deletion is removed.
 */
export async function runGeneration(
  request: RequestEvent,
  traceparent: string | undefined,
  deps: GenerationDeps,
): Promise<GenerationOutcome> {
  const { state, logger } = deps;
  const id = request.id;
  const log = logger.child({ generation: id });
  const report = createReporter(request, traceparent, deps);

  // Asked together, one pipelined round trip before the start instead of three in a row. The
  // first block of event numbers is reserved in the same round trip, so the first event goes
  // live without another; unused (the run ends here), it is a gap in producer seqs (kseq) only:
  // clients' seq counts applied events.
  report.reserveSeqsAhead();
  const [deleted, claimed, canceledBeforeStart, floor] = await Promise.all([
    state.isDeleted(id),
    state.terminal(id),
    state.isCanceled(id),
    state.attemptFloor(id),
  ]);
  if (deleted) {
    await state.forget(id);
    return "deleted";
  }
  if (request.attempt < floor) {
    // Replayed since this record was written: the replay's own record runs it, not this one.
    deps.releaseSlot?.();
    log.info("superseded by a replay; not started", { attempt: request.attempt, floor });
    return "duplicate";
  }
  if (claimed) {
    // Ended already: nothing runs on the provider, so the slot goes to the next request now.
    deps.releaseSlot?.();
    if (!claimed.published) await report.publishAgain(claimed);
    return "duplicate";
  }

  async function finish(record: TerminalRecord, outcome: GenerationOutcome): Promise<GenerationOutcome> {
    // The claim may overlap the last status sends; the terminal event is published after them.
    const won = await state.claimTerminal(id, { ...record, claimedAt: Date.now() });
    // Claimed (by this run or another): a retry of what follows meets the claim and runs no provider.
    deps.releaseSlot?.();
    await report.settled();
    if (!won) {
      const other = await state.terminal(id);
      if (other && !other.published) await report.publishAgain(other);
      return "duplicate";
    }
    await report.publish(record);
    // Published: what is left is retried here (each step may run twice), never the whole run.
    const cleanUp = async (): Promise<GenerationOutcome> => {
      if (!(await state.isDeleted(id))) return outcome;
      // Deleted while it ran: the relay and the history drop these events; what this worker stored goes too.
      await state.forget(id);
      if (record.outcome?.topic === "complete") {
        const { image, thumbnail } = record.outcome.event;
        await deps.discardImages([image.key, ...(thumbnail ? [thumbnail.key] : [])], id);
      }
      return "deleted";
    };
    return untilDone(cleanUp, deps.shutdown, (error) =>
      log.warn("outcome published; retrying its last steps", { error }),
    );
  }

  const cancel = async () =>
    finish(
      {
        status: await report.statusEvent("canceled", "done", 100, { request, log: logLine("info", "canceled") }),
        published: false,
      },
      "canceled",
    );
  const fail = async (error: unknown, retryable: boolean) => {
    const code = codeOf(error);
    // Users see the code's fixed message, in the snapshot and in the generation's log alike; the
    // error itself (hosts, paths, provider text) goes to the worker's log only.
    const detail = { code, message: GENERATION_ERROR_MESSAGES[code], retryable };
    const attempts = report.attempt;
    const status = await report.statusEvent("failed", "done", 100, {
      error: detail,
      log: logLine("error", `failed after ${attempts} attempt(s): ${detail.code}: ${detail.message}`),
    });
    const event = FailedEvent.create({
      id,
      userId: request.userId,
      request,
      error: detail,
      attempts,
      failedAt: status.at,
    });
    log.warn("generation failed", { code, attempts, retryable, error });
    return finish({ status, outcome: { topic: "failed", event }, published: false }, "failed");
  };
  const handBack = async (): Promise<GenerationOutcome> => {
    // The offset stays uncommitted and another instance picks it up.
    await report
      .emit("queued", "queued", 0, { log: logLine("warn", "worker shutting down: handed back to the queue") })
      .catch(() => {});
    return "handed-back";
  };

  if (canceledBeforeStart) return cancel();
  if (request.startDeadline && Date.now() > Date.parse(request.startDeadline)) {
    const message = `expired: not started by its deadline ${request.startDeadline}`;
    const status = await report.statusEvent("expired", "done", 100, { request, log: logLine("warn", message) });
    return finish({ status, published: false }, "expired");
  }
  const startedAt = Date.now();

  for (; ; report.attempt++) {
    const attempt = report.attempt;
    const timeout = AbortSignal.timeout(deps.policy.timeoutMs);
    const canceled = new AbortController();
    const signal = AbortSignal.any([timeout, canceled.signal, deps.shutdown]);
    const checkCancel = async () => {
      if (await state.isCanceled(id)) canceled.abort(new Canceled("canceled"));
    };
    // Previews and stages after the provider returned must not take a seq after the terminal event.
    let rendering = true;
    try {
      // Not awaited: events stay in order on the chain, and `finish` waits for it.
      const of = deps.policy.maxAttempts > 1 ? ` of ${deps.policy.maxAttempts}` : "";
      void report.emit("processing", "started", 5, { log: logLine("info", `attempt ${attempt}${of} started`) });
      const began = Date.now();
      let lastStage: Stage | null = null;
      let lastProgressAt = 0;
      const onPreview = throttledPreviews({
        intervalMs: deps.policy.progressIntervalMs,
        stopped: () => signal.aborted || !rendering,
        send(preview) {
          const { stage, progress } = report.current;
          const note = `preview ${preview.width}×${preview.height}, ${Math.ceil((preview.data.length * 3) / 4)} bytes`;
          void report.emit("processing", stage, progress, { preview, log: logLine("info", note) });
        },
      });
      const image = await deps.provider.generate({
        params: request.params,
        signal,
        onPreview,
        onStage: (stage, progress) => {
          // After an abort the outcome is being decided: a late stage must not take a later seq.
          if (signal.aborted || !rendering) return;
          // A new stage always goes out; progress within a stage at most every progressIntervalMs
          // (each event costs a Kafka write and a relay step; Replicate throttles the same way).
          const now = Date.now();
          if (stage === lastStage && now - lastProgressAt < deps.policy.progressIntervalMs) return;
          const extra = stage === lastStage ? {} : { log: logLine("info", stage) };
          lastStage = stage;
          lastProgressAt = now;
          void report.emit("processing", stage, progress, extra);
          void checkCancel().catch(() => {});
        },
      });
      rendering = false;
      const generationMs = ms(began, Date.now());
      await checkCancel();
      signal.throwIfAborted();
      void report.emit("processing", "storing", 95, { log: logLine("info", "storing") });
      const stored = await storeImage(deps.store, image, deps.imageUrl);
      const now = Date.now();
      const timings = { queuedMs: ms(request.createdAt, startedAt), generationMs, totalMs: ms(request.createdAt, now) };
      const { width, height, format, bytes } = stored.image;
      const done = `completed: ${width}×${height} ${format}, ${bytes} bytes; generation ${generationMs} ms, queued ${timings.queuedMs} ms, total ${timings.totalMs} ms`;
      const status = await report.statusEvent("completed", "done", 100, {
        ...stored,
        timings,
        log: logLine("info", done),
      });
      const event = CompleteEvent.create({
        id,
        userId: request.userId,
        params: request.params,
        ...stored,
        timings,
        attempts: attempt,
        completedAt: status.at,
      });
      return finish({ status, outcome: { topic: "complete", event }, published: false }, "completed");
    } catch (error) {
      rendering = false;
      await report.reset();
      if (deps.shutdown.aborted) return handBack();
      if (canceled.signal.aborted) return cancel();
      if (timeout.aborted)
        return fail(new PipelineError("timeout", `generation exceeded ${deps.policy.timeoutMs} ms`), false);
      const retryable = isRetryable(error);
      if (!retryable || attempt >= deps.policy.maxAttempts) return fail(error, retryable);
      deps.onRetry?.(error);
      const delay = backoffMs(attempt, deps.policy.retryBaseMs);
      log.info("retrying after a transient error", { attempt, error });
      const { stage, progress } = report.current;
      // The generation's log is the user's to read: the code and its fixed message, never the error's text.
      const code = codeOf(error);
      const why = `attempt ${attempt} failed: ${code}: ${GENERATION_ERROR_MESSAGES[code]}; retrying in ${delay} ms`;
      void report.emit("processing", stage, progress, { log: logLine("warn", why) });
      try {
        await sleep(delay, AbortSignal.any([deps.shutdown, canceled.signal]));
      } catch {
        if (deps.shutdown.aborted) return handBack();
      }
      if (canceledBeforeStart) return cancel();
    }
  }
}
