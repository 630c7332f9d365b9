import type { InOrderMessage } from "./in-order-consumer.ts";

/**
 * Work an in-order consumer's handler started for a fetched batch (its `prefetch` hook), by
 * topic-partition and offset, for the handler of each message to take once: a retry of the
 * message (after that work failed) finds nothing and works afresh. A new fetch of a partition
 * replaces what was left of its previous one.
 */
export function createPrefetched<T>() {
  const started = new Map<string, Map<string, Promise<T>>>();
  const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  return {
    /** Records `work` (by offset) for the partition of `messages`; its failures are the handler's to see. */
    set(messages: readonly InOrderMessage[], work: Map<string, Promise<T>>): void {
      const first = messages[0];
      if (!first) return;
      for (const promise of work.values()) promise.catch(() => {});
      started.set(partitionKey(first.topic, first.partition), work);
    },
    take(message: InOrderMessage): Promise<T> | undefined {
      const work = started.get(partitionKey(message.topic, message.partition));
      const promise = work?.get(message.offset);
      work?.delete(message.offset);
      return promise;
    },
  };
}
