/**
 * Group commit over one idempotent kafkajs producer: while a sendBatch is in flight, new sends
 * queue, and everything queued goes out in the next single sendBatch. An idle producer sends at
 * once; a busy one sends bigger batches, so throughput grows with load without a linger delay.
 */
import { ProgrammerError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { type IHeaders, type Kafka, type Message, RETRY_CAP_MS, type RecordMetadata } from "../kafka/kafka-client.ts";
import { kafkaWriteError, unavailable } from "./kafka-write-error.ts";
import { createPartitionAssigner } from "./partition-assigner.ts";
import { createProducerConnection } from "./producer-connection.ts";

/** A message as the Upstash REST API carries it. */
export interface OutgoingMessage {
  key?: string;
  value: string;
  headers?: { key: string; value: string }[];
  partition?: number;
  /** Milliseconds since the epoch; now when absent. */
  timestamp?: number;
}
export type OutgoingRecord = OutgoingMessage & { topic: string };

export interface ProducedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

export interface BatchingProducer {
  /** Connects (retrying in the background when it cannot); resolves whether it is connected now. */
  start(): Promise<boolean>;
  readonly connected: boolean;
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<ProducedRecord[]>;
  /** Like send, for records that name their own topics; all of them travel in the same batch. */
  sendRecords(records: readonly OutgoingRecord[]): Promise<ProducedRecord[]>;
  /** sendBatch calls made and messages handed to them: messages / batches is the coalescing. */
  readonly counters: { batches: number; messages: number };
  /** Resolves once nothing is queued or in flight. */
  flush(): Promise<void>;
  /** Refuses new sends, drains what was accepted, disconnects. Safe to call twice. */
  close(): Promise<void>;
}

/** Told about each sendBatch once it settles: records in it, whether Kafka took them, how long it took. */
export type BatchObserver = (batch: { records: number; ok: boolean; seconds: number }) => void;

export interface BatchingProducerOptions {
  kafka: Kafka;
  logger: Logger;
  onBatch?: BatchObserver;
  /** kafkajs retries of one sendBatch before its callers are failed (retryable). */
  retries?: number;
  /** The Kafka client's retry cap when it was given one (kafka-client.ts): the most a reconnect waits. */
  retryCapMs?: number;
  /** Queued sends are coalesced up to this many bytes; a bigger single send travels alone. */
  maxBatchBytes?: number;
  metadataMaxAgeMs?: number;
  /**
   * Topics placed round robin (shared/topics.ts `roundRobinTopics`): a record there that names no
   * partition goes to the next partition in turn, keyed or not.
   */
  roundRobinTopics?: readonly string[];
  /**
   * For callers that can be told to retry (the gateway's HTTP clients): the longest a send waits
   * for Kafka before it is refused as unavailable — for a reconnect attempt or a partition lookup
   * to finish, or in the queue, behind a batch Kafka has not acknowledged. Such a send was never
   * handed to kafkajs, so the refusal leaves nothing written; a send already in a batch waits for
   * that batch. While Kafka is known to be away (the last connect attempt failed), such a send is
   * refused at once instead: holding every caller through an outage tells none of them sooner and
   * ties up their connections. Unset: sends wait for Kafka, however long.
   */
  waitMs?: number;
}

interface Pending {
  records: (Message & { topic: string; partition: number; timestamp: string })[];
  bytes: number;
  /** performance.now() after which it is refused if still queued (Infinity: never). */
  deadline: number;
  resolve(results: ProducedRecord[]): void;
  reject(error: unknown): void;
}

/** `promise`'s outcome if it settles within `ms`, else `onTimeout()` thrown; a late outcome is dropped. */
const within = <T>(promise: Promise<T>, ms: number, onTimeout: () => Error) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const byteLength = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text));
const recordBytes = (r: OutgoingMessage) =>
  byteLength(r.key) +
  byteLength(r.value) +
  (r.headers ?? []).reduce((n, h) => n + byteLength(h.key) + byteLength(h.value), 0);

function toHeaders(headers: OutgoingMessage["headers"]): IHeaders | undefined {
  if (!headers?.length) return undefined;
  const out: Record<string, string[]> = {};
  // Kafka headers are a list and may repeat a key; kafkajs writes an array as repeated headers.
  for (const { key, value } of headers) out[key] = [...(out[key] ?? []), value];
  return out;
}

export function createBatchingProducer(options: BatchingProducerOptions): BatchingProducer {
  const { logger } = options;
  const maxBatchBytes = options.maxBatchBytes ?? 512 * 1024;
  const connection = createProducerConnection({
    kafka: options.kafka,
    logger,
    retries: options.retries ?? 8,
    retryCapMs: options.retryCapMs ?? RETRY_CAP_MS,
    onSettled: () => schedule(),
  });
  let accepting = true;
  let closing: Promise<void> | undefined;
  const queue: Pending[] = [];
  let scheduled = false;
  let inFlight: Promise<void> | undefined;
  let inFlightSince = 0;
  let sweepTimer: ReturnType<typeof setTimeout> | undefined;
  let admitting = 0;
  let drainedWaiters: (() => void)[] = [];
  const counters = { batches: 0, messages: 0 };

  const assigner = createPartitionAssigner({
    maxAgeMs: options.metadataMaxAgeMs ?? 5 * 60_000,
    roundRobin: options.roundRobinTopics,
    async fetchPartitions(topic) {
      const admin = connection.session?.admin;
      if (!admin) throw unavailable("Kafka producer is not connected");
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics.find((t) => t.name === topic)?.partitions ?? [];
    },
  });

  const { waitMs } = options;
  const stalled = () => waitMs !== undefined && inFlight !== undefined && performance.now() - inFlightSince >= waitMs;
  const stalledError = () => unavailable(`Kafka has not acknowledged a write for ${waitMs} ms`);
  const waitedError = () => unavailable(`Kafka could not take the write within ${waitMs} ms`);
  /**
   * Refuses, unsent, the queued sends past their deadline (the queue is in arrival order, so they
   * are at its head), then sleeps until the next one's. One timer, armed only while sends queue.
   */
  const sweep = () => {
    sweepTimer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0] as Pending).deadline <= now) (queue.shift() as Pending).reject(waitedError());
    notifyIfDrained();
    armSweep();
  };
  const armSweep = () => {
    const next = queue[0]?.deadline;
    if (sweepTimer || next === undefined || next === Number.POSITIVE_INFINITY) return;
    sweepTimer = setTimeout(sweep, Math.max(0, next - performance.now()));
    sweepTimer.unref();
  };

  const notifyIfDrained = () => {
    if (inFlight || scheduled || admitting > 0 || queue.length > 0) return;
    const waiters = drainedWaiters;
    drainedWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const schedule = () => {
    if (inFlight || scheduled || queue.length === 0 || connection.state === "connecting") return notifyIfDrained();
    if (connection.state !== "connected") {
      const error = unavailable("Kafka producer is not connected");
      for (const pending of queue.splice(0)) pending.reject(error);
      return notifyIfDrained();
    }
    // Yield once so sends arriving in the same turn of the event loop share the first batch.
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      runBatch();
    });
  };

  const takeBatch = (): Pending[] => {
    let count = 0;
    let bytes = 0;
    for (const pending of queue) {
      if (count > 0 && bytes + pending.bytes > maxBatchBytes) break;
      bytes += pending.bytes;
      count++;
    }
    return queue.splice(0, count);
  };

  const runBatch = () => {
    const producer = connection.session?.producer;
    if (!producer || connection.state !== "connected") return schedule();
    const batch = takeBatch();
    if (batch.length === 0) return notifyIfDrained();
    const byTopic = new Map<string, Message[]>();
    // Position of each record inside its topic-partition: its offset is that partition's base + position.
    const positions = new Map<string, number>();
    const slots = batch.map((pending) =>
      pending.records.map((record) => {
        const messages = byTopic.get(record.topic) ?? [];
        byTopic.set(record.topic, messages);
        messages.push(record);
        const tp = tpKey(record.topic, record.partition);
        const index = positions.get(tp) ?? 0;
        positions.set(tp, index + 1);
        return index;
      }),
    );
    const count = slots.reduce((n, s) => n + s.length, 0);
    counters.batches++;
    counters.messages += count;
    const began = performance.now();
    inFlightSince = began;
    const observe = (ok: boolean) =>
      options.onBatch?.({ records: count, ok, seconds: (performance.now() - began) / 1000 });
    inFlight = producer
      .sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
      .then(
        (metadata) => {
          observe(true);
          settle(batch, slots, metadata);
        },
        (error) => {
          observe(false);
          const failure = kafkaWriteError(error, "Kafka write failed");
          logger.warn("Kafka batch failed", { error: failure, messages: count });
          assigner.invalidate(byTopic.keys());
          for (const pending of batch) pending.reject(failure);
          // A fresh producer id, so the sequence numbers of this batch are never reused (producer-connection.ts).
          if (connection.state === "connected") void connection.connect();
        },
      )
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
  };

  const settle = (batch: Pending[], positions: number[][], metadata: RecordMetadata[]) => {
    const bases = new Map(metadata.map((m) => [tpKey(m.topicName, m.partition), m]));
    batch.forEach((pending, i) => {
      const located = pending.records.map((record, j): ProducedRecord | undefined => {
        const base = bases.get(tpKey(record.topic, record.partition));
        if (base?.baseOffset === undefined) return undefined;
        const appendTime = Number(base.logAppendTime ?? -1);
        return {
          topic: record.topic,
          partition: record.partition,
          offset: Number(base.baseOffset) + (positions[i]?.[j] ?? 0),
          timestamp: appendTime >= 0 ? appendTime : Number(record.timestamp),
        };
      });
      if (located.every((r) => r !== undefined)) pending.resolve(located);
      else pending.reject(new ProgrammerError("Kafka's produce response lacks a partition this batch wrote to"));
    });
  };

  const admit = async (records: readonly OutgoingRecord[]): Promise<Pending["records"]> => {
    // A reconnect after a failed batch (or the first connect) is waited for; one while Kafka is
    // known to be away is not, for a caller that can be told to retry (waitMs).
    const away = waitMs !== undefined && connection.failing;
    if (connection.state === "connecting" && !away) await connection.connect();
    if (connection.state !== "connected") throw unavailable("Kafka producer is not connected");
    const partitions = await assigner.assign(records);
    const now = Date.now();
    return records.map((r, i) => ({
      topic: r.topic,
      key: r.key,
      value: r.value,
      headers: toHeaders(r.headers),
      partition: partitions[i] ?? 0,
      timestamp: String(r.timestamp ?? now),
    }));
  };

  const sendRecords = async (records: readonly OutgoingRecord[]): Promise<ProducedRecord[]> => {
    if (!accepting) throw unavailable("the Kafka producer is closing");
    if (records.length === 0) return [];
    // Partition assignment is async: a send being admitted counts as queued, so flush() waits for it.
    admitting++;
    const deadline = waitMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + waitMs;
    let prepared: Pending["records"];
    try {
      prepared = await (waitMs === undefined ? admit(records) : within(admit(records), waitMs, waitedError));
    } catch (error) {
      admitting--;
      notifyIfDrained();
      throw error;
    }
    admitting--;
    if (stalled()) {
      notifyIfDrained();
      throw stalledError();
    }
    return new Promise<ProducedRecord[]>((resolve, reject) => {
      const bytes = records.reduce((sum, r) => sum + recordBytes(r), 0);
      queue.push({ records: prepared, bytes, deadline, resolve, reject });
      armSweep();
      schedule();
    });
  };

  const flush = () =>
    new Promise<void>((resolve) => {
      drainedWaiters.push(resolve);
      schedule();
    });

  return {
    start() {
      if (connection.state === "connected") return Promise.resolve(true);
      return connection.connect();
    },
    get connected() {
      return connection.state === "connected";
    },
    send: (topic, messages) => sendRecords(messages.map((m) => ({ ...m, topic }))),
    sendRecords,
    get counters() {
      return { ...counters };
    },
    flush,
    close() {
      closing ??= (async () => {
        accepting = false;
        await flush();
        await connection.close();
      })();
      return closing;
    },
  };
}
