import type { Logger } from "../../shared/logger.ts";
import type { RedisSubscriber } from "../redis/redis-client.ts";

export type Listener = (message: string) => void;

/**
 * One Redis subscription per watched channel, shared by every local watcher: subscribed when
 * the first watcher arrives, dropped when the last one leaves. Any instance can serve any
 * generation because the relay publishes every event to Redis, not to a worker.
 */
export function createFanout(subscriber: RedisSubscriber, logger: Logger) {
  const watchers = new Map<string, Set<Listener>>();
  const pending = new Map<string, Promise<void>>();

  return {
    /** Resolves once the subscription is live, so later publishes reach `listener`. */
    async watch(channel: string, listener: Listener): Promise<() => Promise<void>> {
      let set = watchers.get(channel);
      if (!set) {
        set = new Set();
        watchers.set(channel, set);
        const current = set;
        pending.set(
          channel,
          subscriber.subscribe(channel, (message) => {
            for (const l of current) l(message);
          }),
        );
      }
      set.add(listener);
      try {
        await pending.get(channel);
      } catch (error) {
        // A failed subscribe must not stay cached: the next watcher tries again.
        set.delete(listener);
        if (set.size === 0 && watchers.get(channel) === set) {
          watchers.delete(channel);
          pending.delete(channel);
        }
        throw error;
      }
      let left = false;
      return async () => {
        if (left) return;
        left = true;
        const current = watchers.get(channel);
        current?.delete(listener);
        if (current && current.size === 0) {
          watchers.delete(channel);
          pending.delete(channel);
          await subscriber.unsubscribe(channel).catch((error) => logger.warn("unsubscribe failed", { channel, error }));
        }
      };
    },
    channels: (): number => watchers.size,
  };
}
export type Fanout = ReturnType<typeof createFanout>;
