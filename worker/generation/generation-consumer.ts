import { RequestEvent } from "../../shared/events/events.ts";
import type { Logger } from "../../shared/logger.ts";
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
  onOutcome?(outcome: GenerationOutcome): void;
  onLag?(partition: number, lag: number): void;
}

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
  const inFlight = new Map<string, Promise<GenerationOutcome>>();
  const shutdown = new AbortController();
  let consumer: Consumer | null = null;
  let joined = false;
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

  /** Runs a request until it has an outcome; infrastructure errors are retried, never dropped. */
  async function runToOutcome(request: RequestEvent, traceparent: string | undefined): Promise<GenerationOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await options.run(request, traceparent, shutdown.signal);
      } catch (error) {
        if (shutdown.signal.aborted) return "handed-back";
        logger.error("generation could not record its outcome; retrying", { generation: request.id, error });
        await sleep(backoffMs(attempt, 200, Math.random, 10_000), shutdown.signal).catch(() => {});
      }
    }
  }

  function dispatch(message: KafkaMessage, partition: number): void {
    tracker.start(partition, message.offset);
    const done = (outcome: GenerationOutcome) => {
      if (outcome !== "handed-back") tracker.finish(partition, message.offset);
      void commitSoon();
    };
    const parsed = RequestEvent.decode(message.value);
    if (!parsed.ok) {
      logger.warn("skipping an invalid request event", { partition, offset: message.offset, issues: parsed.issues });
      slots.release();
      done("failed");
      return;
    }
    const request = parsed.value;
    const running = inFlight.get(request.id);
    if (running) {
      // Redelivered while this instance still works on it (after a rebalance): wait, don't redo.
      slots.release();
      void running.then(done);
      return;
    }
    const work = runToOutcome(request, header(message, "traceparent"));
    inFlight.set(request.id, work);
    void work.then((outcome) => {
      inFlight.delete(request.id);
      slots.release();
      options.onOutcome?.(outcome);
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
