import { expect, test } from "bun:test";
import { METRICS, type MetricDef, renderMetricsTable } from "./metric-catalogue.ts";
import { Metrics } from "./metrics.ts";

const def = (name: string, type: MetricDef["type"], buckets?: number[]): MetricDef => ({
  name,
  type,
  help: "Help.",
  labels: [],
  exportedBy: ["worker"],
  ...(buckets ? { buckets } : {}),
});

test("renders counters, gauges and labelled histograms in Prometheus text format", () => {
  const m = new Metrics();
  const outcomes = m.counter(def("gen_outcomes_total", "counter"));
  outcomes.inc({ status: "completed" });
  outcomes.inc({ status: "completed" });
  outcomes.inc({ status: "failed" });
  m.gauge(def("gen_in_flight", "gauge"), () => [{ value: 3 }]);
  const h = m.histogram(def("gen_seconds", "histogram", [0.1, 1]));
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  h.observe(0.2, { script: "apply" });
  const text = m.render();
  expect(text).toContain('gen_outcomes_total{status="completed"} 2\ngen_outcomes_total{status="failed"} 1');
  expect(text).toContain("# HELP gen_in_flight Help.\n# TYPE gen_in_flight gauge\ngen_in_flight 3");
  expect(text).toContain(
    'gen_seconds_bucket{le="0.1"} 1\ngen_seconds_bucket{le="1"} 2\ngen_seconds_bucket{le="+Inf"} 3',
  );
  expect(text).toContain("gen_seconds_sum 5.55\ngen_seconds_count 3");
  expect(text).toContain('gen_seconds_bucket{script="apply",le="1"} 1\n');
  expect(text).toContain('gen_seconds_count{script="apply"} 1');
});

test("label values are escaped, so a hostile value cannot forge another series", () => {
  const m = new Metrics();
  m.counter(def("x_total", "counter")).inc({ route: 'a"} 1\nevil_total{x="' });
  expect(m.render()).toContain('x_total{route="a\\"} 1\\nevil_total{x=\\""} 1');
  expect(m.render()).not.toMatch(/^evil_total/m);
});

test("a series is declared once, as one type", () => {
  const m = new Metrics();
  m.counter(METRICS.generationRetries);
  expect(() => m.counter(METRICS.generationRetries)).toThrow("registered twice");
  expect(() => m.histogram(METRICS.generationOutcomes)).toThrow("declared as a counter");
});

test("every catalogued series follows the naming rules and appears in the docs table", () => {
  const table = renderMetricsTable();
  for (const d of Object.values(METRICS)) {
    expect(d.name).toMatch(/^pixel_[a-z_]+$/);
    if (d.type === "counter") expect(d.name).toEndWith("_total");
    if (d.type === "histogram") expect(d.buckets?.length).toBeGreaterThan(0);
    expect(table).toContain(`\`${d.name}\``);
  }
});

test("a scrape waits for its beforeScrape work, keeps the last figure when it fails, and never hangs on it", async () => {
  const m = new Metrics();
  let figure = 1;
  m.gauge(def("lag", "gauge"), () => [{ value: figure }]);
  let work: () => Promise<unknown> = async () => {
    figure = 2;
  };
  m.beforeScrape(() => work());
  expect(await m.scrape()).toContain("lag 2");
  work = async () => {
    throw new Error("broker away");
  };
  expect(await m.scrape()).toContain("lag 2");
  // Work that never ends: the scrape answers with what it has once its wait is over.
  work = () => new Promise(() => {});
  expect(await m.scrape()).toContain("lag 2");
});
