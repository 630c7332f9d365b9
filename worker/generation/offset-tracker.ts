/**
 * Which offset of each partition is safe to commit while generations finish out of order:
 * the lowest one still unfinished (parallel-consumer's "highest committable offset"), so a
 * crash at any moment redelivers every unfinished request and nothing else is lost.
 */
export class OffsetTracker {
  private readonly pending = new Map<number, Set<number>>();
  private readonly next = new Map<number, number>();
  private readonly committed = new Map<number, number>();

  start(partition: number, offset: string): void {
    const n = Number(offset);
    let set = this.pending.get(partition);
    if (!set) {
      set = new Set();
      this.pending.set(partition, set);
    }
    set.add(n);
    this.next.set(partition, Math.max(this.next.get(partition) ?? 0, n + 1));
  }

  finish(partition: number, offset: string): void {
    this.pending.get(partition)?.delete(Number(offset));
  }

  inFlight(): number {
    let total = 0;
    for (const set of this.pending.values()) total += set.size;
    return total;
  }

  /** Offsets (Kafka's "next to read") that moved since they were last marked committed. */
  committable(): { partition: number; offset: string }[] {
    const out: { partition: number; offset: string }[] = [];
    for (const [partition, next] of this.next) {
      const set = this.pending.get(partition);
      const lowest = set && set.size > 0 ? Math.min(...set) : next;
      if (lowest !== this.committed.get(partition)) out.push({ partition, offset: String(lowest) });
    }
    return out;
  }

  markCommitted(entries: { partition: number; offset: string }[]): void {
    for (const e of entries) this.committed.set(e.partition, Number(e.offset));
  }

  /** After a rebalance: forget partitions this member no longer owns. */
  retain(partitions: number[]): void {
    const keep = new Set(partitions);
    for (const map of [this.pending, this.next, this.committed])
      for (const p of [...map.keys()]) if (!keep.has(p)) map.delete(p);
  }
}
