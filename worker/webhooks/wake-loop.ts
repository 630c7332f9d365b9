/**
 * Runs `step` over and over, never two at once, sleeping between runs only as long as the step
 * says nothing can be done: it answers the ms until it has work again (0: at once; negative: not
 * known, so `maxIdleMs`), and the sleep is capped at `maxIdleMs` because an event that should
 * have woken it may be lost. `wake` runs it at once; a wake during a run makes one more run right
 * after it, since that run may have looked before what woke it happened. `step` must not reject.
 */
export function createWakeLoop(step: () => Promise<number>, maxIdleMs: number) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  const wake = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    timer = null;
    again = false;
    running = step().then((nextMs) => {
      running = null;
      if (stopped) return;
      if (again || nextMs === 0) wake();
      else timer = setTimeout(wake, nextMs < 0 ? maxIdleMs : Math.min(nextMs, maxIdleMs));
    });
  };

  return {
    wake,
    /** No run starts after this; resolves once the one under way has finished. Safe to call twice. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
