interface Entry<T> {
  item: T;
  key: string;
  rank: number;
  submittedAt: number;
  arrival: number;
  overtaken: number;
  expiresAt: number;
}

/**
 * The requests a worker has read from Kafka but not started, bounded, taken most urgent first:
 * lowest priority rank (high 0, normal 1, low 2), then oldest: first submitted, then first read.
 * Submission time comes first because requests on different partitions are read in no set order
 * (one fetch holds several partitions, handled concurrently). Aging keeps `low` from starving:
 * each time a request is passed over for a younger one, it counts an overtake, and every `aging`
 * overtakes lift it one level, so a low request waits behind at most 2 × aging younger ones
 * before it competes as high and wins by age. A request past its start deadline
 * goes first (`takeExpired`): it ends `expired` without running, so it needs no slot.
 */
export class PriorityBuffer<T> {
  private readonly entries: Entry<T>[] = [];
  private arrivals = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly capacity: number,
    readonly aging: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  get full(): boolean {
    return this.entries.length >= this.capacity;
  }

  has(key: string): boolean {
    return this.entries.some((e) => e.key === key);
  }

  /**
   * `key` identifies the Kafka record (partition and offset): a redelivered record is not added
   * twice. `submittedAt` (Unix ms; none: as old as can be, then in the order read).
   */
  push(item: T, key: string, rank: number, options: { submittedAt?: number; expiresAt?: number } = {}): void {
    if (this.has(key)) return;
    const { submittedAt = 0, expiresAt = Number.POSITIVE_INFINITY } = options;
    this.entries.push({ item, key, rank, submittedAt, arrival: this.arrivals++, overtaken: 0, expiresAt });
  }

  private static older<T>(a: Entry<T>, b: Entry<T>): boolean {
    return a.submittedAt < b.submittedAt || (a.submittedAt === b.submittedAt && a.arrival < b.arrival);
  }

  private effective(entry: Entry<T>, now: number): number {
    if (entry.expiresAt < now) return Number.NEGATIVE_INFINITY;
    return entry.rank - Math.floor(entry.overtaken / this.aging);
  }

  take(): T | undefined {
    if (this.entries.length === 0) return undefined;
    const now = this.now();
    let best = 0;
    for (let i = 1; i < this.entries.length; i++) {
      const a = this.entries[i] as Entry<T>;
      const b = this.entries[best] as Entry<T>;
      const ea = this.effective(a, now);
      const eb = this.effective(b, now);
      if (ea < eb || (ea === eb && PriorityBuffer.older(a, b))) best = i;
    }
    const [chosen] = this.entries.splice(best, 1) as [Entry<T>];
    for (const waiting of this.entries) if (PriorityBuffer.older(waiting, chosen)) waiting.overtaken++;
    this.wake();
    return chosen.item;
  }

  /** Removes and returns the entries past their start deadline (they end at once, without a slot). */
  takeExpired(): T[] {
    const now = this.now();
    const expired = this.entries.filter((e) => e.expiresAt < now);
    if (expired.length === 0) return [];
    return this.drop((item) => expired.some((e) => e.item === item));
  }

  /** Removes the entries `drop` selects (partitions this member lost) and returns them. */
  drop(drop: (item: T) => boolean): T[] {
    const dropped: T[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i] as Entry<T>;
      if (drop(entry.item)) {
        this.entries.splice(i, 1);
        dropped.push(entry.item);
      }
    }
    if (dropped.length) this.wake();
    return dropped;
  }

  /** Resolves when an entry leaves (not necessarily leaving room for this caller: check `full` again). */
  space(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
