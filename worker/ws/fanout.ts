import type { Logger } from "../../shared/logger.ts";
import type { RedisSubscriber } from "../redis/redis-client.ts";

export type Listener = (message: string) => void;
/** Called after the subscription came back from a dropped connection: messages may have been missed. */
export type Resync = () => void;

/**
 * One Redis subscription per watched channel, shared by every local watcher: subscribed when
 * the first watcher arrives, dropped when the last one leaves. Any instance can serve any
 * generation because the relay publishes every event to Redis, not to a worker.
 */
export function createFanout(subscriber: RedisSubscriber, logger: Logger) {
  const watchers = new Map<string, Set<Listener>>();
  const resyncs = new Map<Listener, Resync>();
  const pending = new Map<string, Promise<void>>();

  return {
    /** Resolves once the subscription is live, so later publishes reach `listener`. */
    async watch(channel: string, listener: Listener, resync?: Resync): Promise<() => Promise<void>> {
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
      if (resync) resyncs.set(listener, resync);
      try {
        await pending.get(channel);
      } catch (error) {
        // A failed subscribe must not stay cached: the next watcher tries again.
        set.delete(listener);
        resyncs.delete(listener);
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
        resyncs.delete(listener);
        const current = watchers.get(channel);
        current?.delete(listener);
        if (current && current.size === 0) {
          watchers.delete(channel);
          pending.delete(channel);
          await subscriber.unsubscribe(channel).catch((error) => logger.warn("unsubscribe failed", { channel, error }));
        }
      };
    },
    /**
     * The subscriber reconnected and subscribed `channels` again (RedisSubscriberOptions.onResubscribed):
     * what was published meanwhile never arrives, so each watcher reads what it missed.
     */
    resubscribed(channels: string[]): void {
      for (const channel of channels) for (const listener of watchers.get(channel) ?? []) resyncs.get(listener)?.();
    },
    channels: (): number => watchers.size,
  };
}
export type Fanout = ReturnType<typeof createFanout>;
