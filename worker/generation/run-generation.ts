import { isRetryable, PipelineError } from "../../shared/errors.ts";
import { CompleteEvent, FailedEvent, type RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import { childTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import {
  GENERATION_ERROR_MESSAGES,
  type GenerationErrorCode,
  type JobStatus,
  type Stage,
  toGenerationErrorCode,
} from "../../shared/job-states.ts";
import type { Logger } from "../../shared/logger.ts";
import type { ImageStore } from "../images/image-store.ts";
import type { EventSink } from "./event-sink.ts";
import type { GenerationState, TerminalRecord } from "./generation-state.ts";
import type { GenerationProvider } from "./provider.ts";
import { backoffMs, sleep } from "./retry-policy.ts";
import { seqAllocator } from "./seq-allocator.ts";
import { storeImage } from "./store-image.ts";

export type GenerationOutcome = "completed" | "failed" | "canceled" | "handed-back" | "duplicate";

export interface GenerationDeps {
  provider: GenerationProvider;
  store: ImageStore;
  state: GenerationState;
  sink: EventSink;
  topics: { status: string; complete: string; failed: string };
  workerId: string;
  policy: { timeoutMs: number; maxAttempts: number; retryBaseMs: number; progressIntervalMs: number };
  imageUrl(key: string): string;
  /** Aborted when the worker shuts down: unfinished work is handed back, not failed. */
  shutdown: AbortSignal;
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
 * errors, the timeout, cancel between stages, and exactly one terminal outcome across all
 * instances (claimed in Redis before it is published).
 */
export async function runGeneration(
  request: RequestEvent,
  traceparent: string | undefined,
  deps: GenerationDeps,
): Promise<GenerationOutcome> {
  const { state, sink, topics, logger } = deps;
  const id = request.id;
  const trace = childTraceparent(traceparent);
  const log = logger.child({ generation: id });

  const claimed = await state.terminal(id);
  if (claimed) {
    if (!claimed.published) await publish(claimed);
    return "duplicate";
  }

  let chain: Promise<void> = Promise.resolve();
  let attempt = 1;
  const takeSeq = seqAllocator((count) => state.reserveSeqs(id, count));
  /** Builds a status event; its seq and time are taken now, at the state change. */
  const statusEvent = (status: JobStatus, stage: Stage, progress: number, extra: Partial<StatusEvent> = {}) => {
    const seq = takeSeq();
    const at = new Date().toISOString();
    const eventAttempt = attempt;
    return seq.then((n) =>
      StatusEvent.create({
        id,
        userId: request.userId,
        seq: n,
        status,
        stage,
        progress,
        at,
        workerId: deps.workerId,
        attempt: eventAttempt,
        ...extra,
      }),
    );
  };
  // Status events are sent one after another so they reach Kafka in `seq` order.
  const emit = (status: JobStatus, stage: Stage, progress: number): Promise<void> => {
    const event = statusEvent(status, stage, progress);
    chain = chain.then(async () => {
      await sink.send([{ topic: topics.status, message: toKafkaMessage(StatusEvent, await event, trace) }]);
    });
    // Callers may fire and forget; a failure still surfaces where the chain is awaited.
    chain.catch(() => {});
    event.catch(() => {});
    return chain;
  };

  /** The outcome event and the terminal status go out in one produce batch, outcome first. */
  async function publish(record: TerminalRecord): Promise<void> {
    const outcome =
      record.outcome?.topic === "complete"
        ? [{ topic: topics.complete, message: toKafkaMessage(CompleteEvent, record.outcome.event, trace) }]
        : record.outcome?.topic === "failed"
          ? [{ topic: topics.failed, message: toKafkaMessage(FailedEvent, record.outcome.event, trace) }]
          : [];
    await sink.send([...outcome, { topic: topics.status, message: toKafkaMessage(StatusEvent, record.status, trace) }]);
    await state.markPublished(id, record);
  }

  async function finish(record: TerminalRecord, outcome: GenerationOutcome): Promise<GenerationOutcome> {
    // The claim may overlap the last status sends; the terminal event is published after them.
    const won = await state.claimTerminal(id, record);
    await chain;
    if (!won) {
      const other = await state.terminal(id);
      if (other && !other.published) await publish(other);
      return "duplicate";
    }
    await publish(record);
    return outcome;
  }

  const cancel = async () =>
    finish({ status: await statusEvent("canceled", "done", 100), published: false }, "canceled");
  const fail = async (error: unknown, retryable: boolean) => {
    const code = codeOf(error);
    // Users see the code's fixed message; the error itself (hosts, paths, provider text) is logged.
    const detail = { code, message: GENERATION_ERROR_MESSAGES[code], retryable };
    const status = await statusEvent("failed", "done", 100, { error: detail });
    const event = FailedEvent.create({
      id,
      userId: request.userId,
      request,
      error: detail,
      attempts: attempt,
      failedAt: status.at,
    });
    log.warn("generation failed", { code, attempts: attempt, retryable, error });
    return finish({ status, outcome: { topic: "failed", event }, published: false }, "failed");
  };

  if (await state.isCanceled(id)) return cancel();
  const startedAt = Date.now();

  for (; ; attempt++) {
    const timeout = AbortSignal.timeout(deps.policy.timeoutMs);
    const canceled = new AbortController();
    const signal = AbortSignal.any([timeout, canceled.signal, deps.shutdown]);
    const checkCancel = async () => {
      if (await state.isCanceled(id)) canceled.abort(new Canceled("canceled"));
    };
    try {
      // Not awaited: events stay in order on the chain, and `finish` waits for it.
      void emit("processing", "started", 5);
      const began = Date.now();
      let lastStage: Stage | null = null;
      let lastProgressAt = 0;
      const image = await deps.provider.generate({
        params: request.params,
        signal,
        onStage: (stage, progress) => {
          // After an abort the outcome is being decided: a late stage must not take a later seq.
          if (signal.aborted) return;
          // A new stage always goes out; progress within a stage at most every progressIntervalMs
          // (each event costs a Kafka write and a relay step; Replicate throttles the same way).
          const now = Date.now();
          if (stage === lastStage && now - lastProgressAt < deps.policy.progressIntervalMs) return;
          lastStage = stage;
          lastProgressAt = now;
          void emit("processing", stage, progress);
          void checkCancel().catch(() => {});
        },
      });
      const generationMs = ms(began, Date.now());
      await checkCancel();
      signal.throwIfAborted();
      void emit("processing", "storing", 95);
      const imageRef = await storeImage(deps.store, image, deps.imageUrl);
      const now = Date.now();
      const timings = { queuedMs: ms(request.createdAt, startedAt), generationMs, totalMs: ms(request.createdAt, now) };
      const status = await statusEvent("completed", "done", 100, { image: imageRef, timings });
      const event = CompleteEvent.create({
        id,
        userId: request.userId,
        params: request.params,
        image: imageRef,
        timings,
        attempts: attempt,
        completedAt: status.at,
      });
      return finish({ status, outcome: { topic: "complete", event }, published: false }, "completed");
    } catch (error) {
      await chain.catch(() => {});
      chain = Promise.resolve();
      if (deps.shutdown.aborted) {
        // Handed back: the offset stays uncommitted and another instance picks it up.
        await emit("queued", "queued", 0).catch(() => {});
        return "handed-back";
      }
      if (canceled.signal.aborted) return cancel();
      if (timeout.aborted)
        return fail(new PipelineError("timeout", `generation exceeded ${deps.policy.timeoutMs} ms`), false);
      const retryable = isRetryable(error);
      if (!retryable || attempt >= deps.policy.maxAttempts) return fail(error, retryable);
      deps.onRetry?.(error);
      log.info("retrying after a transient error", { attempt, error });
      try {
        await sleep(backoffMs(attempt, deps.policy.retryBaseMs), AbortSignal.any([deps.shutdown, canceled.signal]));
      } catch {
        if (deps.shutdown.aborted) {
          await emit("queued", "queued", 0).catch(() => {});
          return "handed-back";
        }
      }
      if (await state.isCanceled(id)) return cancel();
    }
  }
}
