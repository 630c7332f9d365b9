import { isRetryable } from "../../shared/errors.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import { invalidEvent } from "../kafka/invalid-event.ts";
import type { Consumer, Kafka, KafkaMessage } from "../kafka/kafka-client.ts";
import { OffsetTracker } from "./offset-tracker.ts";
import { backoffMs, sleep } from "./retry-policy.ts";
import type { GenerationOutcome } from "./run-generation.ts";
import { Slots } from "./slots.ts";

export interface GenerationConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  maxConcurrent: number;
  sessionTimeoutMs?: number;
  logger: Logger;
  run(request: RequestEvent, traceparent: string | undefined, shutdown: AbortSignal): Promise<GenerationOutcome>;
  /** Where a request that fails the same way every time is parked, so its offset can move on. */
  deadLetters: Pick<DeadLetters, "park">;
  onLag?(partition: number, lag: number): void;
  /** A request was picked up: ms since its record was written (the queue latency). */
  onPickup?(queuedMs: number): void;
}

/** What became of one request message; "dead-lettered" ones were parked without an outcome. */
export type ConsumerOutcome = GenerationOutcome | "dead-lettered";

const header = (message: KafkaMessage, name: string): string | undefined => {
  const value = message.headers?.[name];
  return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
};

/**
 * The kafkajs consumer of image.generation.requests with more generations in flight than
 * partitions: messages are dispatched into `maxConcurrent` slots as they arrive, and offsets
 * are committed only up to the lowest unfinished one.
 */
export function createGenerationConsumer(options: GenerationConsumerOptions) {
  const { kafka, groupId, topic, logger } = options;
  const tracker = new OffsetTracker();
  const slots = new Slots(options.maxConcurrent);
  const inFlight = new Map<string, Promise<ConsumerOutcome>>();
  const shutdown = new AbortController();
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
  async function runToOutcome(request: RequestEvent, message: KafkaMessage, partition: number) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await options.run(request, header(message, "traceparent"), shutdown.signal);
      } catch (error) {
        if (shutdown.signal.aborted) return "handed-back";
        if (!isRetryable(error)) return park(message, partition, error);
        logger.error("generation could not record its outcome; retrying", { generation: request.id, error });
        await retryPause(attempt);
      }
    }
  }

  function dispatch(message: KafkaMessage, partition: number): void {
    tracker.start(partition, message.offset);
    const done = (outcome: ConsumerOutcome) => {
      if (outcome !== "handed-back") tracker.finish(partition, message.offset);
      void commitSoon();
    };
    const parsed = RequestEvent.decode(message.value);
    if (!parsed.ok) {
      void park(message, partition, invalidEvent(RequestEvent, parsed.issues)).then((outcome) => {
        slots.release();
        done(outcome);
      });
      return;
    }
    const request = parsed.value;
    options.onPickup?.(Math.max(0, Date.now() - Number(message.timestamp)));
    const running = inFlight.get(request.id);
    if (running) {
      // Redelivered while this instance still works on it (after a rebalance): wait, don't redo.
      slots.release();
      void running.then(done);
      return;
    }
    const work = runToOutcome(request, message, partition);
    inFlight.set(request.id, work);
    void work.then((outcome) => {
      inFlight.delete(request.id);
      slots.release();
      done(outcome);
    });
  }

  return {
    async start(): Promise<void> {
      const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
      consumer = kafka.consumer({
        groupId,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 250,
        sessionTimeout,
        heartbeatInterval: Math.floor(sessionTimeout / 10),
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        joined = true;
        tracker.retain(payload.memberAssignment[topic] ?? []);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        crashes++;
        logger.error("kafka consumer crashed", { group: groupId, error: payload.error });
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 8,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          options.onLag?.(batch.partition, Number(batch.offsetLag()));
          const halted = () => draining || !isRunning() || isStale();
          for (const message of batch.messages) {
            if (halted()) return;
            while (!slots.tryAcquire()) {
              await Promise.race([slots.released(), Bun.sleep(2000)]);
              await heartbeat();
              if (halted()) return;
            }
            dispatch(message, batch.partition);
            resolveOffset(message.offset);
          }
          await heartbeat();
        },
      });
    },
    get ready(): boolean {
      return joined && !draining;
    },
    get inFlight(): number {
      return inFlight.size;
    },
    /** How often kafkajs reported the consumer crashed (and restarted it); zero is the goal. */
    get crashes(): number {
      return crashes;
    },
    /**
     * Stops fetching, lets in-flight generations finish for up to `graceMs`, hands back the
     * rest, commits, and leaves the group. Safe to call twice.
     */
    stop(graceMs: number): Promise<void> {
      stopping ??= (async () => {
        draining = true;
        const pending = () => Promise.allSettled([...inFlight.values()]);
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
