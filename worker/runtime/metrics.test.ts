import { expect, test } from "bun:test";
import { Metrics } from "./metrics.ts";

test("renders counters, gauges and histograms in Prometheus text format", () => {
  const m = new Metrics();
  const outcomes = m.counter("gen_outcomes_total", "Outcomes.");
  outcomes.inc({ status: "completed" });
  outcomes.inc({ status: "completed" });
  outcomes.inc({ status: "failed" });
  m.gauge("gen_in_flight", "In flight.", () => [{ value: 3 }]);
  const h = m.histogram("gen_seconds", "Time.", [0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const text = m.render();
  expect(text).toContain('gen_outcomes_total{status="completed"} 2\ngen_outcomes_total{status="failed"} 1');
  expect(text).toContain("# TYPE gen_in_flight gauge\ngen_in_flight 3");
  expect(text).toContain(
    'gen_seconds_bucket{le="0.1"} 1\ngen_seconds_bucket{le="1"} 2\ngen_seconds_bucket{le="+Inf"} 3',
  );
  expect(text).toContain("gen_seconds_sum 5.55\ngen_seconds_count 3");
});
