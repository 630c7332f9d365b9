import { isRetryable } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { backoffMs, sleep } from "../generation/retry-policy.ts";
import type { DeadLetters } from "./dead-letters.ts";
import { watchMembership } from "./group-membership.ts";
import type { Consumer, Kafka, KafkaMessage } from "./kafka-client.ts";
import { createRelaunch, startConsumer } from "./relaunch.ts";

export interface InOrderMessage {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
}

export interface InOrderConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /**
   * Applies one message. Throwing an error that is not `retryable` (see shared/errors.ts) says
   * the message itself is at fault: it is parked on the dead-letter topic and skipped. A
   * retryable error (Redis, Kafka or a database unreachable) is retried until it passes.
   */
  handle(message: InOrderMessage): Promise<void>;
  /**
   * Told each fetched batch of one partition before its messages are handled one by one, so a
   * handler may start their writes together (one pipelined round trip) and `handle` await each
   * in turn. Offsets still move one message at a time, after its `handle`.
   */
  prefetch?(messages: InOrderMessage[]): void;
  deadLetters: Pick<DeadLetters, "park">;
  logger: Logger;
  /** Base of the backoff between retries of an outage, ms (capped at 5 s). */
  retryBaseMs?: number;
  /** KAFKA_SESSION_TIMEOUT_MS: how long a member that stops heartbeating keeps its partitions. */
  sessionTimeoutMs?: number;
  /**
   * How much the broker gathers before it answers a fetch, waiting at most the fetch's max wait
   * (a second): for a consumer that can be a second behind, fewer and fuller fetches, each with
   * one offset commit. Under load most of a consumer's and the broker's CPU per message was the
   * fetch and commit around it. Default 1: answered as soon as a record arrives.
   */
  fetchMinBytes?: number;
  /** Records left after each fetched batch, per topic-partition (for metrics). */
  onLag?(topic: string, partition: number, lag: number): void;
}

const header = (message: KafkaMessage, name: string): string | undefined => {
  const value = message.headers?.[name];
  return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
};

/**
 * A consumer group member that handles each partition's messages one by one, in order, and
 * moves an offset only after its handler finished: with an idempotent handler that is at least
 * once in and exactly one effect out. Nothing a message contains can stop it: a message that
 * fails the same way every time is parked and passed, and an outage is waited out in place
 * (heartbeating), so kafkajs never sees an error, never crashes and never restarts the consumer.
 */
export function createInOrderConsumer(options: InOrderConsumerOptions) {
  const { logger } = options;
  const retryBaseMs = options.retryBaseMs ?? 200;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const stopped = new AbortController();
  let consumer: Consumer | null = null;
  let stopping: Promise<void> | null = null;
  let joined = false;
  let crashes = 0;

  type Live = { heartbeat(): Promise<void>; stillOwned(): boolean };
  type Context = { topic: string; partition: number; offset: string };

  /**
   * Runs `work` until it succeeds or fails on the message itself (a non-retryable error, when
   * `poisonable`), waiting out everything else. Resolves null when the consumer stops or loses
   * the partition first: the message is then left unresolved for the next owner.
   */
  async function persist(
    what: string,
    work: () => Promise<void>,
    context: Context,
    live: Live,
    poisonable: boolean,
  ): Promise<{ poison?: unknown } | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        await work();
        return {};
      } catch (error) {
        if (poisonable && !isRetryable(error)) return { poison: error };
        logger.warn(`${what} failed; retrying`, { ...context, attempt, error });
      }
      const waited = await sleep(backoffMs(attempt, retryBaseMs, Math.random, 5_000), stopped.signal).then(
        () => true,
        () => false,
      );
      // A heartbeat refused during a rebalance means the partition may be someone else's now.
      const alive =
        waited &&
        (await live.heartbeat().then(
          () => true,
          () => false,
        ));
      if (!alive || !live.stillOwned()) return null;
    }
  }

  const relaunch = createRelaunch(launch, stopped.signal, logger);
  async function launch(): Promise<void> {
    // kafkajs heartbeats from its fetch loop only; a short interval is how members learn of a
    // rebalance (a dead member removed, a new one joining) within a second or so.
    const heartbeatInterval = Math.min(1000, Math.floor(sessionTimeout / 3));
    consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      // The broker answers a fetch once `minBytes` have arrived or the wait is over. With the
      // default (a record) a long wait costs no latency and a short one is an idle fetch loop;
      // with more, the wait is the most a record can lie unread. Capped by the heartbeat
      // interval, so the fetch loop still heartbeats that often; stop waits for the fetch in flight.
      maxWaitTimeInMs: heartbeatInterval,
      minBytes: options.fetchMinBytes ?? 1,
      sessionTimeout,
      heartbeatInterval,
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      crashes++;
      logger.error("kafka consumer crashed", {
        group: options.groupId,
        error: payload.error,
        restart: payload.restart,
      });
      if (!payload.restart && stopping === null) void relaunch();
    });
    watchMembership(consumer, { kafka: options.kafka, logger });
    await startConsumer(
      consumer,
      options.topics,
      {
        partitionsConsumedConcurrently: 3,
        // Left on, kafkajs would resolve a whole batch we stopped inside, skipping its rest.
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const live = { heartbeat, stillOwned: () => isRunning() && !isStale() };
          options.prefetch?.(
            batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              value: m.value,
            })),
          );
          for (const message of batch.messages) {
            if (!live.stillOwned()) break;
            const context = { topic: batch.topic, partition: batch.partition, offset: message.offset };
            const handled = await persist(
              "handling a message",
              () => options.handle({ ...context, value: message.value }),
              context,
              live,
              true,
            );
            if (handled === null) break;
            if ("poison" in handled) {
              // Parking cannot fail on the message's content, so every failure of it is waited out.
              const parked = await persist(
                "parking a message",
                () =>
                  options.deadLetters.park({
                    source: { kind: "kafka", ...context },
                    key: message.key,
                    value: message.value,
                    traceparent: header(message, "traceparent"),
                    error: handled.poison,
                  }),
                context,
                live,
                false,
              );
              if (parked === null) break;
            }
            resolveOffset(message.offset);
          }
          options.onLag?.(batch.topic, batch.partition, Number(batch.offsetLag()));
          await heartbeat().catch(() => {});
        },
      },
      stopped.signal,
    );
  }

  return {
    async start(): Promise<void> {
      await launch();
    },
    get ready(): boolean {
      return joined && stopping === null;
    },
    /** How often kafkajs reported the consumer crashed (and restarted it); zero is the goal. */
    get crashes(): number {
      return crashes;
    },
    /** Leaves the group after the current message; safe to call twice. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped.abort(new Error("consumer stopping"));
        await consumer?.disconnect();
      })();
      return stopping;
    },
  };
}
