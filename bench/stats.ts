/** Percentiles and clocks shared by the benches. */

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (what the other benches print). */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export const median = (values: readonly number[]): number => summarize(values).p50;

/**
 * Wall-clock milliseconds with sub-millisecond resolution, for comparing against timestamps
 * another process took with Date.now(). Calibrated at the instant Date.now() ticks, so the
 * offset to performance.now() is exact to a few microseconds rather than to a millisecond.
 */
export function epochClock(): () => number {
  const start = Date.now();
  let now = Date.now();
  while (now === start) now = Date.now();
  const offset = now - performance.now();
  return () => offset + performance.now();
}

export const fmt = (ms: number, digits = 2): string => (Number.isFinite(ms) ? ms.toFixed(digits) : "n/a");
