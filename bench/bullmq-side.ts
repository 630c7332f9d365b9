/**
 * The one module that imports bullmq: the BullMQ twin of the pipeline (bench/twin/) builds its
 * queue, workers and event readers from what this exports.
 */
import { Queue, QueueEvents, Worker } from "bullmq";

export type { Job } from "bullmq";
export { UnrecoverableError } from "bullmq";

/** Where the twin keeps its jobs: a queue name under a key prefix of its own (a fresh one per run). */
export interface TwinQueue {
  redisUrl: string;
  prefix: string;
  name: string;
}

/** BullMQ connects with ioredis, its default client; host and port come from the redis:// URL. */
const connection = (redisUrl: string) => {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port || 6379) };
};

export function openQueue(where: TwinQueue, defaults: { attempts: number; backoffMs: number }) {
  return new Queue(where.name, {
    connection: connection(where.redisUrl),
    prefix: where.prefix,
    defaultJobOptions: { attempts: defaults.attempts, backoff: { type: "exponential", delay: defaults.backoffMs } },
  });
}
export type TwinJobQueue = ReturnType<typeof openQueue>;

export function openWorker<T, R>(
  where: TwinQueue,
  processor: (job: import("bullmq").Job<T, R>) => Promise<R>,
  concurrency: number,
) {
  return new Worker<T, R>(where.name, processor, {
    connection: connection(where.redisUrl),
    prefix: where.prefix,
    concurrency,
  });
}

export const openQueueEvents = (where: TwinQueue) =>
  new QueueEvents(where.name, { connection: connection(where.redisUrl), prefix: where.prefix });
export type TwinQueueEvents = ReturnType<typeof openQueueEvents>;
