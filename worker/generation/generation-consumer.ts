import { isRetryable } from "../../shared/errors.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { priorityRank } from "../../shared/job-states.ts";
import type { Logger } from "../../shared/logger.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import { watchMembership } from "../kafka/group-membership.ts";
import { invalidEvent } from "../kafka/invalid-event.ts";
import type { Consumer, Kafka, KafkaMessage } from "../kafka/kafka-client.ts";
import { createRelaunch, startConsumer } from "../kafka/relaunch.ts";
import { OffsetTracker } from "./offset-tracker.ts";
import { PriorityBuffer } from "./priority-buffer.ts";
import { backoffMs, sleep } from "./retry-policy.ts";
import type { GenerationOutcome } from "./run-generation.ts";
import { Slots } from "./slots.ts";

export interface GenerationConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  maxConcurrent: number;
  /** Requests read ahead of free slots and started by priority (GENERATION_LOOKAHEAD). */
  lookahead?: number;
  /** Overtakes before a waiting request moves up a priority level (GENERATION_PRIORITY_AGING). */
  priorityAging?: number;
  sessionTimeoutMs?: number;
  logger: Logger;
  /**
   * Runs one request. `releaseSlot` may be called once the provider's work is over and only the
   * outcome's recording remains: the next request starts while this one's outcome is claimed and
   * published (its offset still waits for the outcome). Calling it is optional and idempotent.
   */
  run(
    request: RequestEvent,
    traceparent: string | undefined,
    shutdown: AbortSignal,
    releaseSlot: () => void,
  ): Promise<GenerationOutcome>;
  /** Where a request that fails the same way every time is parked, so its offset can move on. */
  deadLetters: Pick<DeadLetters, "park">;
  onLag?(partition: number, lag: number): void;
  /** A request was started: ms since its record was written (the queue latency, buffering included). */
  onPickup?(queuedMs: number): void;
}

/** What became of one request message; "dead-lettered" ones were parked without an outcome. */
export type ConsumerOutcome = GenerationOutcome | "dead-lettered";

const header = (message: KafkaMessage, name: string): string | undefined => {
  const value = message.headers?.[name];
  return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
};

interface Pending {
  partition: number;
  message: KafkaMessage;
  request: RequestEvent;
}

/**
 * The kafkajs consumer of image.generation.requests with more generations in flight than
 * partitions, started by priority: each partition's records go, in order, into one bounded
 * buffer (`lookahead`) shared by all partitions this member owns, and whenever one of the
 * `maxConcurrent` slots is free the most urgent buffered request starts (see PriorityBuffer:
 * high before normal before low, with aging so low is never starved).
 *
 * The request topic stays the record and nothing else is written to Kafka for priority: a
 * buffered request counts as unfinished, so offsets are committed only up to the lowest one
 * not yet finished, started or not. A record that can never succeed (it does not decode, or its
 * run fails with an error that is not retryable) is parked on the dead-letter topic and then
 * counts as finished; an outage is retried in place. A crash or a rebalance therefore
 * redelivers everything buffered or running; a redelivered record already buffered is not
 * buffered twice, one already running is awaited, and one that finished meets its terminal
 * claim in Redis and ends `duplicate` — exactly one outcome per generation, whichever order
 * requests start in.
 */
export function createGenerationConsumer(options: GenerationConsumerOptions) {
  const { kafka, groupId, topic, logger } = options;
  const tracker = new OffsetTracker();
  const slots = new Slots(options.maxConcurrent);
  const buffer = new PriorityBuffer<Pending>(options.lookahead ?? 32, options.priorityAging ?? 8);
  const inFlight = new Map<string, Promise<ConsumerOutcome>>();
  const parking = new Set<Promise<ConsumerOutcome>>();
  const shutdown = new AbortController();
  // Aborted when the drain begins: no consumer is launched (or relaunched) to rejoin the group then.
  const leaving = new AbortController();
  let consumer: Consumer | null = null;
  let joined = false;
  let crashes = 0;
  let draining = false;
  let committing: Promise<void> | null = null;
  let commitAgain = false;
  let stopping: Promise<void> | null = null;

  async function commitLoop(): Promise<void> {
    do {
      commitAgain = false;
      const entries = tracker.committable();
      if (entries.length === 0 || !consumer) return;
      try {
        await consumer.commitOffsets(entries.map((e) => ({ topic, ...e })));
        tracker.markCommitted(entries);
      } catch (error) {
        // A rebalance moved the partition: its new owner re-reads from the last commit.
        logger.debug("offset commit skipped", { error });
      }
    } while (commitAgain);
  }
  const commitSoon = (): Promise<void> => {
    if (committing) {
      commitAgain = true;
      return committing;
    }
    committing = commitLoop().finally(() => {
      committing = null;
    });
    return committing;
  };

  const retryPause = (attempt: number) =>
    sleep(backoffMs(attempt, 200, Math.random, 10_000), shutdown.signal).catch(() => {});

  /** Parks a message that can never succeed; waits out a Kafka outage, hands back on shutdown. */
  async function park(message: KafkaMessage, partition: number, error: unknown): Promise<ConsumerOutcome> {
    const source = { kind: "kafka" as const, topic, partition, offset: message.offset };
    for (let attempt = 1; ; attempt++) {
      try {
        await options.deadLetters.park({
          source,
          key: message.key,
          value: message.value,
          traceparent: header(message, "traceparent"),
          error,
        });
        return "dead-lettered";
      } catch (parkError) {
        if (shutdown.signal.aborted) return "handed-back";
        logger.error("could not park a request; retrying", { partition, offset: message.offset, error: parkError });
        await retryPause(attempt);
      }
    }
  }

  /**
   * Runs a request until it has an outcome: an outage is retried, never dropped; an error that
   * is not retryable fails the same way every time (a bug, or data Redis refuses), so the
   * request is parked instead of holding a slot and its partition's offset forever.
   */
  async function runToOutcome(
    { request, message, partition }: Pending,
    releaseSlot: () => void,
  ): Promise<ConsumerOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await options.run(request, header(message, "traceparent"), shutdown.signal, releaseSlot);
      } catch (error) {
        if (shutdown.signal.aborted) return "handed-back";
        if (!isRetryable(error)) return park(message, partition, error);
        logger.error("generation could not record its outcome; retrying", { generation: request.id, error });
        await retryPause(attempt);
      }
    }
  }

  /** Parked and finished records count as done for commits; handed-back ones are read again. */
  const finisher = (partition: number, offset: string) => (outcome: ConsumerOutcome) => {
    if (outcome !== "handed-back") tracker.finish(partition, offset);
    void commitSoon();
  };

  /** Reads a record into the buffer; an invalid one is parked (and then its offset finished), unbuffered. */
  function accept(message: KafkaMessage, partition: number): void {
    tracker.start(partition, message.offset);
    const parsed = RequestEvent.decode(message.value);
    if (!parsed.ok) {
      const parked = park(message, partition, invalidEvent(RequestEvent, parsed.issues));
      parking.add(parked);
      void parked.then((outcome) => {
        parking.delete(parked);
        finisher(partition, message.offset)(outcome);
      });
      return;
    }
    const request = parsed.value;
    const deadline = request.startDeadline ? Date.parse(request.startDeadline) : undefined;
    buffer.push({ partition, message, request }, `${partition}:${message.offset}`, priorityRank(request.priority), {
      submittedAt: Date.parse(request.createdAt),
      expiresAt: deadline,
    });
    // One that is still waiting when its deadline passes ends then, not when a slot frees.
    if (deadline !== undefined && deadline >= Date.now())
      setTimeout(pump, Math.min(deadline - Date.now() + 1, 2 ** 31 - 1)).unref();
    pump();
  }

  /** Ends buffered requests past their deadline, then starts the most urgent ones while slots are free. */
  function pump(): void {
    if (draining) return;
    // Expiring runs no provider: it needs no slot, so a full instance still ends them on time.
    for (const expired of buffer.takeExpired()) start(expired, false);
    while (buffer.size > 0 && slots.tryAcquire()) {
      const next = buffer.take();
      if (next) start(next, true);
      else slots.release();
    }
  }

  function start(pending: Pending, holdsSlot: boolean): void {
    const { partition, message, request } = pending;
    const done = finisher(partition, message.offset);
    let holding = holdsSlot;
    // Once: either the run hands its slot back early (its outcome is being recorded) or it ends.
    const release = () => {
      if (!holding) return;
      holding = false;
      slots.release();
      pump();
    };
    // Queue latency is of requests that run; an expired one only ends.
    if (holdsSlot) options.onPickup?.(Math.max(0, Date.now() - Number(message.timestamp)));
    const running = inFlight.get(request.id);
    if (running) {
      // Redelivered while this instance still works on it (after a rebalance): wait, don't redo.
      release();
      void running.then(done);
      return;
    }
    const work = runToOutcome(pending, release);
    inFlight.set(request.id, work);
    void work.then((outcome) => {
      inFlight.delete(request.id);
      done(outcome);
      release();
    });
  }

  const relaunch = createRelaunch(launch, leaving.signal, logger);
  async function launch(): Promise<void> {
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    // kafkajs heartbeats from its fetch loop only; a short interval is how members learn of a
    // rebalance (a dead member removed, a new one joining) within a second or so.
    const heartbeatInterval = Math.min(1000, Math.floor(sessionTimeout / 3));
    consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // A fetch returns as soon as a request arrives (minBytes 1): a long wait costs no pickup
      // latency, a short one is an idle fetch loop. Capped by the heartbeat interval, so the
      // fetch loop still heartbeats that often.
      maxWaitTimeInMs: heartbeatInterval,
      sessionTimeout,
      heartbeatInterval,
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      joined = true;
      const owned = new Set(payload.memberAssignment[topic] ?? []);
      // Requests of partitions now owned by another member are its to run; it re-reads them.
      buffer.drop((pending) => !owned.has(pending.partition));
      tracker.retain([...owned]);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      crashes++;
      logger.error("kafka consumer crashed", { group: groupId, error: payload.error, restart: payload.restart });
      if (!payload.restart && !draining) void relaunch();
    });
    watchMembership(consumer, { kafka, logger });
    await startConsumer(
      consumer,
      [topic],
      {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 8,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          options.onLag?.(batch.partition, Number(batch.offsetLag()));
          const halted = () => draining || !isRunning() || isStale();
          for (const message of batch.messages) {
            if (halted()) return;
            while (buffer.full) {
              await Promise.race([buffer.space(), Bun.sleep(2000)]);
              await heartbeat();
              if (halted()) return;
            }
            accept(message, batch.partition);
            resolveOffset(message.offset);
          }
          await heartbeat();
        },
      },
      leaving.signal,
    );
  }

  return {
    async start(): Promise<void> {
      await launch();
    },
    get ready(): boolean {
      return joined && !draining;
    },
    get inFlight(): number {
      return inFlight.size;
    },
    /** Requests read but not started yet. */
    get buffered(): number {
      return buffer.size;
    },
    /** How often kafkajs reported the consumer crashed (and restarted it); zero is the goal. */
    get crashes(): number {
      return crashes;
    },
    /**
     * Stops fetching, lets in-flight generations finish for up to `graceMs`, hands back the
     * rest (buffered ones included: their offsets stay uncommitted), commits, and leaves the
     * group. Safe to call twice.
     */
    stop(graceMs: number): Promise<void> {
      stopping ??= (async () => {
        draining = true;
        leaving.abort(new Error("worker leaving its group"));
        const pending = () => Promise.allSettled([...inFlight.values(), ...parking]);
        await Promise.race([pending(), Bun.sleep(graceMs)]);
        shutdown.abort(new Error("worker shutting down"));
        await pending();
        await commitSoon();
        await consumer?.disconnect();
      })();
      return stopping;
    },
  };
}
export type GenerationConsumer = ReturnType<typeof createGenerationConsumer>;
