/**
 * Time to recover and latency, from the submissions alone.
 *
 * A generation "flows normally" when its submit was accepted and its watcher saw it end within
 * the normal latency (derived from the baseline phase). A fault's time to recover is from its
 * reference time (the injection; for the broker and Redis, their answering again) until both:
 * - the end of the first generation submitted after the injection from which on every submit
 *   flowed normally, and
 * - the end of the last generation that was in flight when the fault struck (its work resumed).
 */
import type { Submission } from "./load-driver.ts";

export const endedAt = (s: Submission): number | undefined => s.watch?.terminals[0]?.at;

/** Submit → terminal (as the watcher saw it), ms; undefined if refused or not ended. */
export function latencyMs(s: Submission): number | undefined {
  const end = endedAt(s);
  return s.status === 202 && end !== undefined ? end - s.submittedAt : undefined;
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

export function p99Ms(submissions: Submission[]): number | null {
  return percentile(
    submissions.map(latencyMs).filter((v): v is number => v !== undefined),
    99,
  );
}

/** Issue 9's bound on the whole run's p99: this many times the baseline p99. */
export const P99_GOAL_FACTOR = 3;

/** Where an over-bound generation's time went: ms from a reference time (its fault's). */
export interface SlowTimeline {
  latencyMs: number;
  submittedMs: number;
  /** Its 202 arrived. */
  acceptedMs: number | null;
  /** The first message after the snapshot reached its watcher: a worker had taken it up. */
  firstEventMs: number | null;
  endedMs: number;
}

/**
 * The generations whose latency is above `boundMs`, slowest first (those that decide whether a
 * p99 stays under it), timed from `referenceAt`.
 */
export function slowTimelines(submissions: Submission[], boundMs: number, referenceAt = 0): SlowTimeline[] {
  const from = (at: number | undefined) => (at === undefined ? null : at - referenceAt);
  return submissions
    .flatMap((s) => {
      const latency = latencyMs(s);
      const end = endedAt(s);
      if (latency === undefined || end === undefined || latency <= boundMs) return [];
      return [
        {
          latencyMs: latency,
          submittedMs: s.submittedAt - referenceAt,
          acceptedMs: from(s.respondedAt),
          firstEventMs: from(s.watch?.firstEventAt),
          endedMs: end - referenceAt,
        },
      ];
    })
    .sort((a, b) => b.latencyMs - a.latencyMs);
}

/** How many of `count` values may lie above a bound while their p99 (as `percentile` takes it) stays under it. */
export const allowedAboveP99 = (count: number): number => count - Math.ceil(0.99 * count);

/** Latency still counted as normal: twice the baseline p99, and at least a second above it. */
export const normalLatencyMs = (baselineP99: number): number => Math.max(2 * baselineP99, baselineP99 + 1000);

/**
 * `submissions`: every submit of the run, in submit order; only those submitted before `until`
 * are judged (later ones cannot have ended yet). Null while not recovered.
 */
export function recoveryMs(
  submissions: Submission[],
  fault: { injectedAt: number; referenceAt: number },
  normalMs: number,
  until = Number.POSITIVE_INFINITY,
  minStreak = 1,
): number | null {
  const after = submissions.filter((s) => s.submittedAt >= fault.injectedAt && s.submittedAt < until);
  const normal = (s: Submission) => {
    const latency = latencyMs(s);
    return latency !== undefined && latency <= normalMs;
  };
  let first = after.length;
  while (first > 0 && normal(after[first - 1] as Submission)) first--;
  const streakStart = after[first];
  if (!streakStart || after.length - first < minStreak) return null;
  const inFlight = submissions.filter(
    (s) =>
      s.status === 202 &&
      s.submittedAt < fault.injectedAt &&
      (endedAt(s) ?? Number.POSITIVE_INFINITY) > fault.injectedAt,
  );
  // Work in flight at the fault that has not ended: its work has not resumed, so no recovery yet.
  if (inFlight.some((s) => endedAt(s) === undefined)) return null;
  const ends = [endedAt(streakStart) ?? 0, ...inFlight.map((s) => endedAt(s) ?? 0)];
  return Math.max(0, Math.max(...ends) - fault.referenceAt);
}
