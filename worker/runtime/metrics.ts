/**
 * A minimal Prometheus registry (counters, gauges, one histogram type) rendered in the text
 * exposition format; enough for our handful of series without another dependency.
 */
type Labels = Record<string, string>;
const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${v.replaceAll('"', '\\"')}"`).join(",")}}` : "";
};

interface Series {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

export class Metrics {
  private readonly series: Series[] = [];

  counter(name: string, help: string) {
    const values = new Map<string, { labels: Labels; value: number }>();
    this.series.push({
      name,
      help,
      type: "counter",
      render: () => [...values.values()].map((v) => `${name}${labelText(v.labels)} ${v.value}`),
    });
    return {
      inc(labels: Labels = {}, by = 1) {
        const key = labelText(labels);
        const entry = values.get(key) ?? { labels, value: 0 };
        entry.value += by;
        values.set(key, entry);
      },
    };
  }

  gauge(name: string, help: string, read: () => { labels?: Labels; value: number }[]) {
    this.series.push({
      name,
      help,
      type: "gauge",
      render: () => read().map((v) => `${name}${labelText(v.labels ?? {})} ${v.value}`),
    });
  }

  histogram(name: string, help: string, buckets: number[]) {
    const counts = new Array<number>(buckets.length).fill(0);
    let sum = 0;
    let count = 0;
    this.series.push({
      name,
      help,
      type: "histogram",
      render: () => [
        ...buckets.map((b, i) => `${name}_bucket{le="${b}"} ${counts[i]}`),
        `${name}_bucket{le="+Inf"} ${count}`,
        `${name}_sum ${sum}`,
        `${name}_count ${count}`,
      ],
    });
    return {
      observe(value: number) {
        buckets.forEach((b, i) => {
          if (value <= b) counts[i] = (counts[i] ?? 0) + 1;
        });
        sum += value;
        count++;
      },
    };
  }

  render(): string {
    const lines: string[] = [];
    for (const s of this.series) lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`, ...s.render());
    return `${lines.join("\n")}\n`;
  }
}
