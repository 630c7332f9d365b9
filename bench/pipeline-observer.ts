/**
 * Reads the pipeline's own record of each generation back from Kafka (a fresh consumer group
 * on the requests and status topics), so queue wait and worker time come from the timestamps
 * the pipeline wrote rather than from a client's view of it.
 */
import { RequestEvent, StatusEvent } from "../shared/events/events.ts";
import { isTerminal } from "../shared/job-states.ts";
import type { Kafka } from "../worker/kafka/kafka-client.ts";

export interface Observed {
  /** CreateTime of the request record: stamped by the gateway's producer as it takes the write. */
  producedAt?: number;
  /** The request's createdAt: stamped by the edge before it produces. */
  createdAt?: number;
  /** `at` of the first `processing` status: the worker has picked the request up. */
  startedAt?: number;
  /** CreateTime of the terminal status record: the outcome was claimed and the complete/failed event acked. */
  endedAt?: number;
  outcome?: string;
}

export async function observePipeline(kafka: Kafka, topics: { requests: string; status: string }) {
  const seen = new Map<string, Observed>();
  const waiters = new Map<string, (o: Observed) => void>();
  const entry = (id: string) => seen.get(id) ?? seen.set(id, {}).get(id) ?? {};
  const groupId = `bench-observer-${crypto.randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 50 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.requests, topics.status], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const timestamp = Number(message.timestamp);
      if (topic === topics.requests) {
        const request = RequestEvent.decode(message.value);
        if (!request.ok) return;
        const o = entry(request.value.id);
        o.producedAt = timestamp;
        o.createdAt = Date.parse(request.value.createdAt);
        return;
      }
      const status = StatusEvent.decode(message.value);
      if (!status.ok) return;
      const o = entry(status.value.id);
      if (status.value.status === "processing") o.startedAt ??= Date.parse(status.value.at);
      if (isTerminal(status.value.status) && o.outcome === undefined) {
        o.endedAt = timestamp;
        o.outcome = status.value.status;
        waiters.get(status.value.id)?.(o);
      }
    },
  });
  while (!joined) await Bun.sleep(20);

  return {
    seen,
    /** Resolves with what was observed once the generation has a terminal status. */
    ended(id: string, timeoutMs = 60_000): Promise<Observed> {
      const o = seen.get(id);
      if (o?.outcome) return Promise.resolve(o);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`generation ${id} did not end within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.set(id, (observed) => {
          clearTimeout(timer);
          waiters.delete(id);
          resolve(observed);
        });
      });
    },
    async stop() {
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect();
    },
  };
}
