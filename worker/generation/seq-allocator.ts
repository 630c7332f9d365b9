export interface SeqAllocator {
  /** The next number, in call order. */
  take(): Promise<number>;
  /**
   * Starts reserving the first block now, beside other Redis calls of the same turn (one
   * pipelined round trip), so the first number is ready when the first event is made. A failed
   * reservation fails the first take; the take after it reserves afresh.
   */
  reserveAhead(): void;
}

/**
 * Hands out a generation's producer sequence numbers in call order from blocks reserved in
 * Redis: one round trip per block instead of one per event. A number is taken when an event
 * is created, so events are numbered in the order they happen, whenever they are sent.
 */
export function seqAllocator(reserve: (count: number) => Promise<number>, blockSize = 32): SeqAllocator {
  let next = 1;
  let last = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let ahead: Promise<number> | null = null;
  return {
    take() {
      const seq = queue.then(async () => {
        if (next > last) {
          const reserving = ahead ?? reserve(blockSize);
          ahead = null;
          next = await reserving;
          last = next + blockSize - 1;
        }
        return next++;
      });
      queue = seq.catch(() => {});
      return seq;
    },
    reserveAhead() {
      if (ahead || last > 0) return;
      ahead = reserve(blockSize);
      // Surfaced by the take that waits for it.
      ahead.catch(() => {});
    },
  };
}
