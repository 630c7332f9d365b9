/**
 * Hands out a generation's producer sequence numbers in call order from blocks reserved in
 * Redis: one round trip per block instead of one per event. A number is taken when an event
 * is created, so events are numbered in the order they happen, whenever they are sent.
 */
export function seqAllocator(reserve: (count: number) => Promise<number>, blockSize = 32): () => Promise<number> {
  let next = 1;
  let last = 0;
  let queue: Promise<unknown> = Promise.resolve();
  return () => {
    const seq = queue.then(async () => {
      if (next > last) {
        next = await reserve(blockSize);
        last = next + blockSize - 1;
      }
      return next++;
    });
    queue = seq.catch(() => {});
    return seq;
  };
}
