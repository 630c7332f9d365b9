import { METRICS } from "../runtime/metric-catalogue.ts";
import type { Metrics } from "../runtime/metrics.ts";
import type { GenerationOutcome } from "./run-generation.ts";

/** Outcomes that end a generation here; handed-back and duplicate are someone else's. */
const FINISHED = new Set<GenerationOutcome>(["completed", "failed", "canceled"]);

/**
 * The worker's series: outcomes, generation and queue time, in-flight, buffered, retries, consumer lag.
 * Each observation also goes to `onSample` (the ops console's per-minute history).
 */
export function createWorkerMetrics(
  metrics: Metrics,
  read: { inFlight(): number; buffered(): number; requestsTopic: string },
  onSample?: (sample: { outcome?: GenerationOutcome; generationSeconds?: number; queueSeconds?: number }) => void,
) {
  const outcomes = metrics.counter(METRICS.generationOutcomes);
  const retries = metrics.counter(METRICS.generationRetries);
  const seconds = metrics.histogram(METRICS.generationSeconds);
  const queue = metrics.histogram(METRICS.queueSeconds);
  const lag = new Map<number, number>();
  metrics.gauge(METRICS.inFlight, () => [{ value: read.inFlight() }]);
  metrics.gauge(METRICS.buffered, () => [{ value: read.buffered() }]);
  metrics.gauge(METRICS.consumerLag, () =>
    [...lag].map(([partition, value]) => ({
      labels: { topic: read.requestsTopic, partition: String(partition) },
      value,
    })),
  );
  return {
    outcome(outcome: GenerationOutcome, elapsedMs: number) {
      outcomes.inc({ outcome });
      if (!FINISHED.has(outcome)) return;
      seconds.observe(elapsedMs / 1000);
      onSample?.({ outcome, generationSeconds: elapsedMs / 1000 });
    },
    pickup(queuedMs: number) {
      queue.observe(queuedMs / 1000);
      onSample?.({ queueSeconds: queuedMs / 1000 });
    },
    retry: () => retries.inc(),
    lag: (partition: number, value: number) => lag.set(partition, value),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
