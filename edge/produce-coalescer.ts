/**
 * Group commit for a long-lived edge (Bun): every produce asked for before the event loop next
 * turns goes out as one `POST /produce`. Concurrent submits reach their produce together (the
 * Redis SDK answers their admits in one pipeline), so under load one HTTP call carries many of
 * them, and the edge's fetch, the gateway's request handling and the gateway's wait for Kafka
 * happen once per group instead of once per submit. A lone submit waits for one loop turn.
 *
 * Not for Workers: a Worker's request may not wait on I/O that another request started (if that
 * one ends first, its I/O is canceled and the waiter hangs), so there each submit produces alone.
 */
import { PipelineError } from "../shared/errors.ts";
import type { EventMessageRecord } from "../shared/events/kafka-message.ts";
import type { BatchRestProducer, ProduceRecord, ProduceResult, RestProducer } from "./kafka-rest-producer.ts";

/** Runs a callback once the event loop has run what is pending (Bun: `setImmediate`). */
export type NextTurn = (run: () => void) => void;

export interface CoalescerOptions {
  nextTurn: NextTurn;
  /** At most this many messages per call. */
  maxMessages?: number;
  /** At most about this many bytes of message per call, far under a REST endpoint's body limit (1 MiB). */
  maxBytes?: number;
}

interface Waiting {
  record: ProduceRecord;
  bytes: number;
  resolve(result: ProduceResult): void;
  reject(error: unknown): void;
}

/**
 * About a message's size in the call's body, without encoding it: 3 bytes per UTF-16 unit (UTF-8's
 * most). JSON escapes can take more, so maxBytes keeps far under the endpoint's limit (a call it
 * refuses as too large is sent again one message at a time).
 */
export function sizeBound({ key, value, headers }: EventMessageRecord): number {
  let units = key.length + value.length;
  for (const [name, text] of Object.entries(headers)) units += name.length + text.length;
  return units * 3;
}

/** Splits the waiting produces into calls within both limits, keeping their order. */
function intoCalls(waiting: Waiting[], maxMessages: number, maxBytes: number): Waiting[][] {
  const calls: Waiting[][] = [];
  let call: Waiting[] = [];
  let bytes = 0;
  for (const item of waiting) {
    if (call.length > 0 && (call.length >= maxMessages || bytes + item.bytes > maxBytes)) {
      calls.push(call);
      call = [];
      bytes = 0;
    }
    call.push(item);
    bytes += item.bytes;
  }
  if (call.length > 0) calls.push(call);
  return calls;
}

export function coalesceProduces(inner: BatchRestProducer, options: CoalescerOptions): RestProducer {
  const maxMessages = options.maxMessages ?? 100;
  const maxBytes = options.maxBytes ?? 256 * 1024;
  let waiting: Waiting[] = [];

  // Settles its caller whatever happens, even should `produce` throw rather than reject.
  const alone = (item: Waiting) =>
    Promise.resolve()
      .then(() => inner.produce(item.record.topic, item.record.message))
      .then(item.resolve, item.reject);

  const send = async (call: Waiting[]) => {
    if (call.length === 1) return alone(call[0] as Waiting);
    try {
      const results = await inner.produceMany(call.map((item) => item.record));
      for (const [i, item] of call.entries()) item.resolve(results[i] as ProduceResult);
    } catch (error) {
      // The endpoint checks every message before writing any, and refused the call for what a
      // message carries (or its size): one bad message must not refuse the others' submits, so
      // each is tried alone. Refusals of every message alike (credentials, topic, rate) are not.
      if (error instanceof PipelineError && error.code === "message_rejected") {
        await Promise.all(call.map(alone));
        return;
      }
      // Any other failure may have written some of them: each caller learns it failed, and
      // takes its request back (tombstoned) as it would after a produce of its own.
      for (const item of call) item.reject(error);
    }
  };

  const flush = () => {
    const due = waiting;
    waiting = [];
    for (const call of intoCalls(due, maxMessages, maxBytes)) void send(call);
  };

  return {
    produce(topic, message) {
      return new Promise<ProduceResult>((resolve, reject) => {
        if (waiting.length === 0) options.nextTurn(flush);
        waiting.push({ record: { topic, message }, bytes: sizeBound(message), resolve, reject });
      });
    },
    healthy: () => inner.healthy(),
  };
}
