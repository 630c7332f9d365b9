/** What a load run showed: the verdict (nothing lost, duplicated or unfinished), totals, percentiles, time series. */
import { percentile } from "../stats.ts";
import type { LoadRun } from "./run-load.ts";

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? percentile(sorted, p) : null);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? null };
}

export interface LoadSummary {
  ok: boolean;
  profile: string;
  plannedSeconds: number;
  baseRate: number;
  startedAt: string;
  ranSeconds: number;
  submitted: number;
  accepted: number;
  /** Submits not accepted, by HTTP status (or network-error). */
  refused: Record<string, number>;
  outcomes: Record<string, number>;
  lost: string[];
  duplicated: string[];
  unfinished: string[];
  /** Sockets that closed before their generation's terminal message, by close code (the client then polled). */
  socketsDropped: Record<string, number>;
  /** ms */
  submitLatency: Percentiles;
  endToEnd: Percentiles;
  firstEvent: Percentiles;
  acceptedPerSecond: number;
  finishedPerSecond: number;
  maxLag: Record<string, number>;
  maxSockets: { client: number; server: number | null };
}

const countBy = (keys: string[]) => {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
};

export function summarize(run: LoadRun, plan: { profile: string; seconds: number; rate: number }): LoadSummary {
  const accepted = run.records.filter((r) => r.id !== undefined);
  const refused = countBy(run.records.filter((r) => r.submitStatus !== 202).map((r) => String(r.submitStatus)));
  const outcomes = countBy(accepted.flatMap((r) => (r.outcome ? [r.outcome] : [])));
  const ids = (list: typeof accepted) => list.map((r) => r.id ?? "");
  const notEnded = accepted.filter((r) => r.endedAt === undefined);
  // Ended for the client, yet Kafka holds no outcome record: the pipeline lost its result.
  const noRecord = accepted.filter(
    (r) => r.endedAt !== undefined && r.outcome !== "canceled" && run.outcomeRecords.get(r.id ?? "") === 0,
  );
  const lost = [...ids(notEnded.filter((r) => run.unknownAtEnd.has(r.id ?? ""))), ...ids(noRecord)];
  const unfinished = ids(notEnded.filter((r) => !run.unknownAtEnd.has(r.id ?? "")));
  const duplicated = ids(
    accepted.filter((r) => r.terminalMessages > 1 || (run.outcomeRecords.get(r.id ?? "") ?? 0) > 1),
  );
  const ended = accepted.filter((r) => r.endedAt !== undefined);
  const maxLag: Record<string, number> = {};
  for (const s of run.samples)
    for (const [role, lag] of Object.entries(s.lag)) maxLag[role] = Math.max(maxLag[role] ?? 0, lag ?? 0);
  const serverSockets = run.samples.flatMap((s) => (s.serverSockets === null ? [] : [s.serverSockets]));
  return {
    ok: accepted.length > 0 && lost.length === 0 && duplicated.length === 0 && unfinished.length === 0,
    profile: plan.profile,
    plannedSeconds: plan.seconds,
    baseRate: plan.rate,
    startedAt: new Date(run.startedAt).toISOString(),
    ranSeconds: Number(run.endedAtSeconds.toFixed(1)),
    submitted: run.records.length,
    accepted: accepted.length,
    refused,
    outcomes,
    lost,
    duplicated,
    unfinished,
    socketsDropped: countBy(accepted.flatMap((r) => (r.socketDropped === undefined ? [] : [String(r.socketDropped)]))),
    submitLatency: percentiles(accepted.map((r) => (r.acceptedAt ?? 0) - r.submittedAt)),
    endToEnd: percentiles(ended.map((r) => (r.endedAt ?? 0) - r.submittedAt)),
    firstEvent: percentiles(
      accepted.flatMap((r) => (r.firstEventAt === undefined ? [] : [r.firstEventAt - r.submittedAt])),
    ),
    acceptedPerSecond: Number((accepted.length / Math.max(1, run.scheduleSeconds)).toFixed(2)),
    finishedPerSecond: Number((ended.length / Math.max(1, run.endedAtSeconds)).toFixed(2)),
    maxLag,
    maxSockets: {
      client: Math.max(0, ...run.samples.map((s) => s.clientSockets)),
      server: serverSockets.length ? Math.max(...serverSockets) : null,
    },
  };
}

/** Per-window series for the report's charts: counts per second, and latency percentiles per window. */
export function windows(run: LoadRun, windowSeconds: number) {
  // Whole windows only: the last fraction of a second joins the last window rather than drawing a false drop.
  const count = Math.max(1, Math.round(run.endedAtSeconds / windowSeconds));
  const bucket = (ms: number) => Math.min(count - 1, Math.floor(ms / 1000 / windowSeconds));
  const perWindow = () => Array.from({ length: count }, () => 0);
  const submitted = perWindow();
  const finished = perWindow();
  const failed = perWindow();
  const refused = perWindow();
  const drops = perWindow();
  const latencies: number[][] = Array.from({ length: count }, () => []);
  const add = (series: number[], ms: number) => {
    const i = bucket(ms);
    series[i] = (series[i] ?? 0) + 1;
  };
  for (const r of run.records) {
    add(submitted, r.submittedAt);
    if (r.submitStatus !== 202) add(refused, r.submittedAt);
    if (r.endedAt !== undefined) {
      add(r.outcome === "failed" ? failed : finished, r.endedAt);
      latencies[bucket(r.endedAt)]?.push(r.endedAt - r.submittedAt);
    }
    if (r.socketDropped !== undefined) add(drops, r.acceptedAt ?? r.submittedAt);
  }
  const rate = (n: number) => n / windowSeconds;
  return {
    at: Array.from({ length: count }, (_, i) => (i + 1) * windowSeconds),
    submitted: submitted.map(rate),
    finished: finished.map(rate),
    failed: failed.map(rate),
    refused: refused.map(rate),
    drops: drops.map(rate),
    latency: latencies.map((l) => percentiles(l)),
  };
}
