/**
 * Cleanups an interrupted bench runs before it exits. A bench's stacks and clients are processes
 * of their own: a bench stopped by SIGTERM (or SIGINT) without stopping them would leave them
 * running — burning CPU and holding ports under the next run's measurements.
 */
const pending = new Set<() => Promise<unknown>>();
let trapped = false;

function trap(): void {
  if (trapped) return;
  trapped = true;
  // Exits as a shell reports a process ended by the signal: 128 + its number.
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)
    process.once(signal, () => {
      void Promise.allSettled([...pending].map((cleanup) => cleanup())).finally(() => process.exit(code));
    });
}

/** Runs `cleanup` if the bench is interrupted before the returned function is called. */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  trap();
  pending.add(cleanup);
  return () => pending.delete(cleanup);
}
