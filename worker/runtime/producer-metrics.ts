import type { BatchObserver } from "../gateway/batching-producer.ts";
import { METRICS } from "./metric-catalogue.ts";
import type { Metrics } from "./metrics.ts";

/** The producer series (batches by outcome, records per batch, batch time) fed by the batching producer. */
export function producerMetrics(metrics: Metrics): BatchObserver {
  const batches = metrics.counter(METRICS.produceBatches);
  const records = metrics.histogram(METRICS.produceBatchRecords);
  const seconds = metrics.histogram(METRICS.produceSeconds);
  return ({ records: count, ok, seconds: elapsed }) => {
    batches.inc({ outcome: ok ? "ok" : "error" });
    records.observe(count);
    seconds.observe(elapsed);
  };
}
