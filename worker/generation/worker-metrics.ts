import type { ParkedLabels } from "../kafka/dead-letters.ts";
import { Metrics } from "../runtime/metrics.ts";
import type { GenerationOutcome } from "./run-generation.ts";

/** The worker's Prometheus series: outcomes, generation time, in-flight, retries, dead letters, consumer lag. */
export function createWorkerMetrics(read: { inFlight(): number }) {
  const metrics = new Metrics();
  const outcomes = metrics.counter("pixel_generation_outcomes_total", "Requests handled, by outcome.");
  const retries = metrics.counter("pixel_generation_retries_total", "Attempts retried after a transient error.");
  const deadLetters = metrics.counter(
    "pixel_dead_letters_total",
    "Messages parked on the dead-letter topic because they fail the same way every time.",
  );
  const seconds = metrics.histogram(
    "pixel_generation_seconds",
    "Time from pick-up to outcome, in seconds.",
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  );
  const lag = new Map<number, number>();
  metrics.gauge("pixel_generations_in_flight", "Generations running in this instance.", () => [
    { value: read.inFlight() },
  ]);
  metrics.gauge("pixel_consumer_lag", "Requests not yet read, per partition owned.", () =>
    [...lag].map(([partition, value]) => ({ labels: { partition: String(partition) }, value })),
  );
  return {
    render: () => metrics.render(),
    outcome(outcome: GenerationOutcome, elapsedMs: number) {
      outcomes.inc({ outcome });
      if (outcome !== "handed-back" && outcome !== "duplicate") seconds.observe(elapsedMs / 1000);
    },
    retry: () => retries.inc(),
    parked: (labels: ParkedLabels) => deadLetters.inc({ ...labels }),
    lag: (partition: number, value: number) => lag.set(partition, value),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
