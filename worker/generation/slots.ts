/** A counting semaphore: at most `size` generations in flight in this instance. */
export class Slots {
  private used = 0;

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  release(): void {
    this.used--;
  }
}
