/**
 * The idempotent producer (and the admin client that reads partition metadata) behind the
 * batching producer, reconnecting with backoff in the background while Kafka is unreachable.
 */
import type { Logger } from "../../shared/logger.ts";
import { type Admin, type Kafka, Partitioners, type Producer, RETRY_CAP_MS } from "../kafka/kafka-client.ts";

export interface ProducerSession {
  producer: Producer;
  admin: Admin;
}

/** stopped: never started; down: the last attempt failed and another is scheduled. */
export type ConnectionState = "stopped" | "connecting" | "connected" | "down" | "closed";

export interface ProducerConnection {
  readonly state: ConnectionState;
  /** The last connect attempt failed: Kafka is away, whether or not the next attempt is running. */
  readonly failing: boolean;
  readonly session: ProducerSession | undefined;
  /**
   * Replaces the session with a fresh producer and resolves whether it connected; while an
   * attempt is running, returns that attempt.
   */
  connect(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ProducerConnectionOptions {
  kafka: Kafka;
  logger: Logger;
  /** kafkajs retries of one sendBatch. */
  retries: number;
  /** The longest pause between two connect attempts: the Kafka client's own retry cap. */
  retryCapMs: number;
  /** Called after every attempt settles, whatever its outcome. */
  onSettled(): void;
}

/**
 * The pause before the next connect attempt after `failures` failed ones in a row: 250 ms, then
 * `capMs` at most (0.5 s unless the Kafka client was given another cap, as kafkajs's own retries
 * in kafka-client.ts). A broker that is back is used within that long, whatever the outage
 * lasted; meanwhile sends are refused at once.
 */
export const reconnectDelayMs = (failures: number, capMs = RETRY_CAP_MS): number =>
  Math.min(capMs, 250 * 2 ** failures);

const disconnect = async (session: ProducerSession) => {
  await Promise.allSettled([session.producer.disconnect(), session.admin.disconnect()]);
};

export function createProducerConnection(options: ProducerConnectionOptions): ProducerConnection {
  const { kafka, logger } = options;
  let state: ConnectionState = "stopped";
  let session: ProducerSession | undefined;
  let attempt: Promise<boolean> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  /**
   * Always a new producer: a new producer id restarts sequence numbers, so a batch kafkajs gave
   * up on (that the broker may still have written) can never make the broker drop a later batch
   * as its duplicate, nor wedge the partition with OUT_OF_ORDER_SEQUENCE_NUMBER.
   */
  const open = async (): Promise<boolean> => {
    const old = session;
    session = undefined;
    if (old) await disconnect(old);
    const next: ProducerSession = {
      // acks=-1 (all in-sync replicas) is what kafkajs requires of an idempotent producer. Retries
      // are bounded so callers hear back; kafkajs warns about that, and the fresh producer covers it.
      producer: kafka.producer({
        idempotent: true,
        allowAutoTopicCreation: false,
        retry: { retries: options.retries },
        // Partitions are chosen before sending with this same partitioner; naming it also
        // silences kafkajs's notice about its v2 default.
        createPartitioner: Partitioners.DefaultPartitioner,
      }),
      admin: kafka.admin(),
    };
    try {
      await next.producer.connect();
      await next.admin.connect();
    } catch (error) {
      await disconnect(next);
      if (state === "connecting") {
        state = "down";
        const delay = reconnectDelayMs(failures++, options.retryCapMs);
        logger.warn("Kafka producer cannot connect; retrying", { error, retryInMs: delay });
        retryTimer = setTimeout(() => void connect(), delay);
      }
      return false;
    }
    if (state !== "connecting") {
      await disconnect(next);
      return false;
    }
    session = next;
    state = "connected";
    failures = 0;
    logger.info("Kafka producer connected");
    return true;
  };

  const connect = (): Promise<boolean> => {
    if (attempt) return attempt;
    if (state === "closed") return Promise.resolve(false);
    clearTimeout(retryTimer);
    state = "connecting";
    attempt = open().finally(() => {
      attempt = undefined;
      options.onSettled();
    });
    return attempt;
  };

  return {
    get state() {
      return state;
    },
    get failing() {
      return failures > 0;
    },
    get session() {
      return session;
    },
    connect,
    async close() {
      state = "closed";
      clearTimeout(retryTimer);
      await attempt;
      const last = session;
      session = undefined;
      if (last) await disconnect(last);
    },
  };
}
