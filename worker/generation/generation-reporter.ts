import {
  CompleteEvent,
  FailedEvent,
  type LogLine,
  type RequestEvent,
  StatusEvent,
} from "../../shared/events/events.ts";
import { childTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import type { GenerationLogLevel, JobStatus, Stage } from "../../shared/job-states.ts";
import type { Logger } from "../../shared/logger.ts";
import type { EventSink, SinkRecord } from "./event-sink.ts";
import type { GenerationState, TerminalRecord } from "./generation-state.ts";
import { sleep, untilDone } from "./retry-policy.ts";
import { seqAllocator } from "./seq-allocator.ts";

export interface ReporterDeps {
  state: GenerationState;
  sink: EventSink;
  topics: { status: string; complete: string; failed: string };
  workerId: string;
  /**
   * The live fast path: applies a status event to the live state (snapshot, replay log, channel)
   * with the relay's idempotent write (`snapshot-writer.ts`), so clients need not wait for the
   * relay to read it back. Kafka stays the record; the relay's apply of the same `seq` is then a
   * no-op. A non-terminal event goes live as soon as it is numbered, while Kafka writes it
   * (progress need not wait out an acks=all round trip); a terminal one only once Kafka has it.
   * `after` is the seq of the event this run sent live before it (0: none); false means the
   * write refused it because that one is not in (see APPLY_STATUS), and live applies stop.
   */
  applyLive?(event: StatusEvent, after: number): Promise<boolean>;
  /** Ends the wait for Redis after an outcome is published (the worker shuts down). */
  shutdown?: AbortSignal;
  logger?: Logger;
}

const MAX_LOG_MESSAGE = 500;
/** How far apart two workers' clocks may be: a record's time is its first sender's clock. */
const CLOCK_SKEW_MS = 60_000;
/** How long a claimant has to publish its claim before another worker publishes it instead. */
export const PUBLISH_GRACE_MS = 5000;
const CLAIM_POLL_MS = 100;
/** How long a republish lease outlives a holder that stopped renewing it (one that died). */
const REPUBLISH_LEASE_MS = 15_000;
export const logLine = (level: GenerationLogLevel, message: string): LogLine => ({
  level,
  message: message.length > MAX_LOG_MESSAGE ? `${message.slice(0, MAX_LOG_MESSAGE - 1)}…` : message,
});

/**
 * One generation's events: numbered from seq blocks reserved in Redis when they are created, and
 * sent in batches one after another so they reach Kafka in `seq` order; the terminal event is published
 * with its outcome event in one produce batch, outcome first.
 */
export function createReporter(request: RequestEvent, traceparent: string | undefined, deps: ReporterDeps) {
  const { state, sink, topics } = deps;
  const id = request.id;
  const trace = childTraceparent(traceparent);
  const seqs = seqAllocator((count) => state.reserveSeqs(id, count));
  let chain: Promise<void> = Promise.resolve();
  /** Status events waiting for the send in flight; null when the next event starts a new batch. */
  let open: Promise<StatusEvent>[] | null = null;
  /**
   * The live applies, sent in seq order without waiting for each other's replies (Redis runs a
   * connection's commands in order; waiting held each event a round trip per event before it).
   * Each names the event sent before it, and the script refuses it unless that one is in: after
   * an apply that failed, those already sent behind it land nowhere. After a failure or a refusal
   * they stop for good: the relay applies the rest in Kafka order, and an event applied here
   * after a later one the relay applied would be dropped as stale.
   */
  let liveOrder: Promise<unknown> = Promise.resolve();
  let liveStopped = false;
  let lastLive = 0;
  // Only speed is lost when they stop (the relay delivers the rest), so say why in the log.
  const stopLive = (why: string) => (error?: unknown) => {
    if (!liveStopped)
      deps.logger?.debug("live applies stopped; the relay delivers the rest", { generation: id, why, error });
    liveStopped = true;
  };
  /**
   * Set by a failed send (or seq reservation), cleared by reset(): events emitted after it join a
   * chain that will not send them, so they do not go live either. Clients see at most the events
   * of the failed batch (and those emitted before its failure was known) that Kafka lacks.
   */
  let sendFailed = false;
  const goLive = (events: (StatusEvent | Promise<StatusEvent>)[]) => {
    const apply = deps.applyLive;
    if (!apply) return;
    for (const pending of events) {
      // Only the sends are chained (seq order), not their replies. An event never numbered (its
      // seq reservation failed) stops them too, as a failed apply does.
      liveOrder = liveOrder
        .then(() => pending)
        .then((event) => {
          if (liveStopped) return;
          const after = lastLive;
          lastLive = event.seq;
          // Called from a microtask (still in order), so even an apply that throws synchronously
          // only stops live applies.
          Promise.resolve()
            .then(() => apply(event, after))
            .then((accepted) => {
              if (!accepted) stopLive("refused: the event sent before it is not in")();
            }, stopLive("apply failed"));
        }, stopLive("event not numbered"));
    }
  };
  let attempt = 1;
  let stage: Stage = "queued";
  let progress = 0;

  /** Builds a status event; its seq and time are taken now, at the state change. */
  const statusEvent = (
    status: JobStatus,
    eventStage: Stage,
    eventProgress: number,
    extra: Partial<StatusEvent> = {},
  ) => {
    const seq = seqs.take();
    const at = new Date().toISOString();
    const eventAttempt = attempt;
    if (status === "processing" || status === "queued") {
      stage = eventStage;
      progress = eventProgress;
    }
    return seq.then((n) =>
      StatusEvent.create({
        id,
        userId: request.userId,
        seq: n,
        status,
        stage: eventStage,
        progress: eventProgress,
        at,
        workerId: deps.workerId,
        attempt: eventAttempt,
        ...extra,
      }),
    );
  };

  const terminalRecords = (record: TerminalRecord): SinkRecord[] => [
    ...(record.outcome?.topic === "complete"
      ? [{ topic: topics.complete, message: toKafkaMessage(CompleteEvent, record.outcome.event, trace) }]
      : record.outcome?.topic === "failed"
        ? [{ topic: topics.failed, message: toKafkaMessage(FailedEvent, record.outcome.event, trace) }]
        : []),
    { topic: topics.status, message: toKafkaMessage(StatusEvent, record.status, trace) },
  ];
  const deliver = async (record: TerminalRecord, records: SinkRecord[]): Promise<void> => {
    if (records.length > 0) await sink.send(records);
    goLive([record.status]);
    // The events are in Kafka now: a Redis outage is waited out here, never by failing the
    // run, whose retry would find the claim unpublished and publish the outcome again.
    await untilDone(() => state.markPublished(id, record), deps.shutdown ?? new AbortController().signal);
  };

  const reporter = {
    get attempt() {
      return attempt;
    },
    set attempt(value: number) {
      attempt = value;
    },
    /** The stage and progress of the last non-terminal event. */
    get current() {
      return { stage, progress };
    },
    statusEvent,
    /** Reserves the first numbers now (see SeqAllocator.reserveAhead): the first event need not wait for Redis. */
    reserveSeqsAhead: () => seqs.reserveAhead(),
    /**
     * Queues a status event after the ones before it; callers may fire and forget. Events queued
     * while a send is in flight go together in the next one (a group commit), in `seq` order:
     * a burst costs one produce round trip, not one per event. The event goes live at once.
     */
    emit(status: JobStatus, eventStage: Stage, eventProgress: number, extra: Partial<StatusEvent> = {}): Promise<void> {
      const event = statusEvent(status, eventStage, eventProgress, extra);
      event.catch(() => {});
      if (!open) {
        const batch: Promise<StatusEvent>[] = [];
        open = batch;
        chain = chain.then(async () => {
          // Sending starts: later events wait for the next batch.
          if (open === batch) open = null;
          const events = await Promise.all(batch);
          await sink.send(
            events.map((e) => ({ topic: topics.status, message: toKafkaMessage(StatusEvent, e, trace) })),
          );
        });
        // A failure still surfaces where the chain is awaited.
        chain.catch(() => {
          sendFailed = true;
        });
      }
      open.push(event);
      if (!sendFailed) goLive([event]);
      return chain;
    },
    /** Resolves when every queued status event is in Kafka. */
    settled: (): Promise<void> => chain,
    /** Forgets a failed chain (the attempt's events are lost with it; the next attempt starts afresh). */
    async reset(): Promise<void> {
      await chain.catch(() => {});
      chain = Promise.resolve();
      open = null;
      sendFailed = false;
    },
    /** Publishes a claimed terminal record: its outcome event, then its terminal status. */
    publish: (record: TerminalRecord): Promise<void> => deliver(record, terminalRecords(record)),
    /**
     * Publishes a claim found unpublished, without publishing it twice where that can be told:
     * - Its claimant may be sending it right now (a generation run twice at once, or a partition
     *   moved mid-publish): wait for the claim to be marked published, up to PUBLISH_GRACE_MS
     *   after it was claimed. A claimant that died mid-publish costs that wait once.
     * - A send that failed may have been written all the same (the acknowledgement lost to a
     *   broker stop): only what Kafka does not hold goes out.
     * - Several workers may find it at once (its partition moved twice during the grace): one
     *   lease in Redis lets one of them read back and send; the others wait for it.
     * - A read-back that fails (Kafka away, or a record kafkajs cannot decode) falls back to
     *   sending all of it, as before the read-back existed: a possible duplicate, never a
     *   request held forever.
     */
    async publishAgain(record: TerminalRecord): Promise<void> {
      const graceEnds = (record.claimedAt ?? 0) + PUBLISH_GRACE_MS;
      const signal = deps.shutdown ?? new AbortController().signal;
      while (Date.now() < graceEnds && !signal.aborted) {
        await sleep(Math.min(CLAIM_POLL_MS, Math.max(0, graceEnds - Date.now())), signal).catch(() => {});
        if ((await state.terminal(id))?.published) return;
      }
      // Several workers can get here at once for one claim: a partition moved twice while the
      // grace ran (the dead claimant's member removed, then its replacement joining) leaves the
      // request with each. Each would read back nothing and send. Only the lease holder does;
      // the others wait for it to mark the claim published, or for its lease to lapse (it died).
      let held = await state.leaseRepublish(id, REPUBLISH_LEASE_MS);
      while (held === null) {
        // Shutting down without the lease: hand the request back (its offset stays), never send
        // beside the holder.
        if (signal.aborted) throw signal.reason;
        await sleep(CLAIM_POLL_MS, signal).catch(() => {});
        if ((await state.terminal(id))?.published) return;
        held = await state.leaseRepublish(id, REPUBLISH_LEASE_MS);
      }
      const token = held;
      // Held for as long as the read-back and the send take, however long that is.
      const renewing = setInterval(() => {
        state.renewRepublish(id, token, REPUBLISH_LEASE_MS).catch(() => {});
      }, REPUBLISH_LEASE_MS / 3);
      try {
        const records = terminalRecords(record);
        const written = await sink.written(records, Date.parse(record.status.at) - CLOCK_SKEW_MS).catch((error) => {
          deps.logger?.warn("could not read back the outcome; sending all of it", { generation: id, error });
          return records.map(() => false);
        });
        await deliver(
          record,
          records.filter((_, i) => !written[i]),
        );
      } finally {
        clearInterval(renewing);
        // Published (the others see it), or failed: the run's retry, or another worker, goes next.
        await state.releaseRepublish(id, token).catch(() => {});
      }
    },
  };
  return reporter;
}
export type Reporter = ReturnType<typeof createReporter>;
