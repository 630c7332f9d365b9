/** A counting semaphore: at most `size` generations in flight in this instance. */
export class Slots {
  private used = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  /** Resolves when a slot frees up (not necessarily for this caller: call tryAcquire again). */
  released(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.used--;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
