/**
 * A minimal Prometheus registry (counters, gauges, histograms, all with labels) rendered in the
 * text exposition format; enough for our series without another dependency. Every series is
 * declared once in metric-catalogue.ts, so names, labels and the docs table cannot drift apart.
 */
import { METRICS, type MetricDef } from "./metric-catalogue.ts";

export type Labels = Record<string, string>;

const escapeValue = (v: string) => v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",")}}` : "";
};
const number = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN");

interface Series {
  def: MetricDef;
  render(): string[];
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}
export type GaugeReading = { labels?: Labels; value: number };

/** How long a scrape waits for its `beforeScrape` work before it renders what it has. */
const SCRAPE_WAIT_MS = 2000;

export class Metrics {
  private readonly series: Series[] = [];
  private readonly beforeScrapes: (() => Promise<unknown>)[] = [];

  private add(def: MetricDef, type: MetricDef["type"], render: () => string[]): void {
    if (def.type !== type) throw new Error(`${def.name} is declared as a ${def.type}, not a ${type}`);
    if (this.series.some((s) => s.def.name === def.name)) throw new Error(`${def.name} is registered twice`);
    this.series.push({ def, render });
  }

  counter(def: MetricDef): Counter {
    const values = new Map<string, { labels: Labels; value: number }>();
    this.add(def, "counter", () => [...values.values()].map((v) => `${def.name}${labelText(v.labels)} ${v.value}`));
    return {
      inc(labels: Labels = {}, by = 1) {
        const key = labelText(labels);
        const entry = values.get(key) ?? { labels, value: 0 };
        entry.value += by;
        values.set(key, entry);
      },
    };
  }

  /** A gauge read when scraped: `read` returns the current value of each labelled series. */
  gauge(def: MetricDef, read: () => GaugeReading[]): void {
    this.add(def, "gauge", () => read().map((v) => `${def.name}${labelText(v.labels ?? {})} ${number(v.value)}`));
  }

  histogram(def: MetricDef): Histogram {
    const buckets = def.buckets ?? [];
    const byLabels = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
    this.add(def, "histogram", () =>
      [...byLabels.values()].flatMap(({ labels, counts, sum, count }) => {
        const withLe = (le: string) => labelText({ ...labels, le });
        return [
          ...buckets.map((b, i) => `${def.name}_bucket${withLe(String(b))} ${counts[i]}`),
          `${def.name}_bucket${withLe("+Inf")} ${count}`,
          `${def.name}_sum${labelText(labels)} ${sum}`,
          `${def.name}_count${labelText(labels)} ${count}`,
        ];
      }),
    );
    return {
      observe(value: number, labels: Labels = {}) {
        const key = labelText(labels);
        let entry = byLabels.get(key);
        if (!entry) {
          entry = { labels, counts: new Array<number>(buckets.length).fill(0), sum: 0, count: 0 };
          byLabels.set(key, entry);
        }
        for (let i = 0; i < buckets.length; i++)
          if (value <= (buckets[i] ?? 0)) entry.counts[i] = (entry.counts[i] ?? 0) + 1;
        entry.sum += value;
        entry.count++;
      },
    };
  }

  /**
   * Work a scrape waits for before it renders: refreshing a figure that is read only for the
   * scrape, so nothing polls for it while nobody scrapes. Bounded by SCRAPE_WAIT_MS; its failure
   * leaves the last figure in place and never fails the scrape.
   */
  beforeScrape(work: () => Promise<unknown>): void {
    this.beforeScrapes.push(work);
  }

  /** What `/metrics` serves: `render()` after the `beforeScrape` work. */
  async scrape(): Promise<string> {
    if (this.beforeScrapes.length === 0) return this.render();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SCRAPE_WAIT_MS);
    });
    const work = Promise.all(this.beforeScrapes.map((w) => w().catch(() => undefined)));
    await Promise.race([work, waited]).finally(() => clearTimeout(timer));
    return this.render();
  }

  render(): string {
    const lines: string[] = [];
    for (const { def, render } of this.series)
      lines.push(`# HELP ${def.name} ${def.help}`, `# TYPE ${def.name} ${def.type}`, ...render());
    return `${lines.join("\n")}\n`;
  }
}

/** Series every process exports about itself: when it started and how much memory it holds. */
export function processMetrics(metrics: Metrics): Metrics {
  const started = Date.now() / 1000;
  metrics.gauge(METRICS.processStart, () => [{ value: started }]);
  metrics.gauge(METRICS.processMemory, () => [{ value: process.memoryUsage.rss() }]);
  return metrics;
}
