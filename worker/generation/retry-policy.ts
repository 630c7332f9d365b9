import { isRetryable } from "../../shared/errors.ts";

/** Exponential backoff with "equal jitter": never shorter than half the step, and a burst of retries spreads out. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `step` until it succeeds, waiting out retryable errors (an outage) with backoff; a
 * non-retryable error, or the signal aborting, ends it. For the steps after a write that must
 * not be repeated: retrying them in place keeps a caller from redoing the write.
 */
export async function untilDone<T>(
  step: () => Promise<T>,
  signal: AbortSignal,
  onRetry: (error: unknown) => void = () => {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (signal.aborted || !isRetryable(error)) throw error;
      onRetry(error);
      await sleep(backoffMs(attempt, 100, Math.random, 2_000), signal);
    }
  }
}
