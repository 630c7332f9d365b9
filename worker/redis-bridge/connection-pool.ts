/**
 * A few dedicated Redis connections lent out one request at a time. Transactions need one:
 * MULTI on the shared, auto-pipelined connection would sweep other requests' commands into the
 * transaction. Callers beyond `max` wait in order; a connection whose work threw is closed, not
 * reused, because it may still be inside MULTI.
 */
import { PipelineError, ProgrammerError } from "../../shared/errors.ts";
import type { Redis } from "../redis/redis-client.ts";

export interface ConnectionPool {
  use<T>(work: (redis: Redis) => Promise<T>): Promise<T>;
  close(): void;
}

type Waiter = { grant: (redis: Redis | null) => void; refuse: (error: Error) => void };

export function createConnectionPool(open: () => Promise<Redis>, max: number): ConnectionPool {
  if (!Number.isInteger(max) || max < 1) throw new ProgrammerError(`pool size must be a positive integer, got ${max}`);
  const idle: Redis[] = [];
  const waiters: Waiter[] = [];
  let size = 0;
  let closed = false;
  const closedError = () => new PipelineError("redis_unavailable", "the connection pool is closed");

  /** An idle connection, one handed over by `release`, or a new one opened in a free slot. */
  const acquire = async (): Promise<Redis> => {
    if (closed) throw closedError();
    const ready = idle.pop();
    if (ready) return ready;
    let lent: Redis | null = null;
    if (size < max) size++;
    else lent = await new Promise<Redis | null>((grant, refuse) => waiters.push({ grant, refuse }));
    if (lent) return lent;
    try {
      return await open();
    } catch (error) {
      release(null);
      throw error;
    }
  };

  /** Passes a healthy connection, or the slot of a discarded one (null), straight to the next waiter. */
  const release = (redis: Redis | null) => {
    if (closed) {
      redis?.close();
      return;
    }
    const next = waiters.shift();
    if (next) next.grant(redis);
    else if (redis) idle.push(redis);
    else size--;
  };

  return {
    async use(work) {
      const redis = await acquire();
      let result: Awaited<ReturnType<typeof work>>;
      try {
        result = await work(redis);
      } catch (error) {
        redis.close();
        release(null);
        throw error;
      }
      release(redis);
      return result;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const redis of idle.splice(0)) redis.close();
      for (const waiter of waiters.splice(0)) waiter.refuse(closedError());
    },
  };
}
