import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { buildDashboard, DASHBOARD_FILE, metricFamilies, renderDashboard } from "./dashboard.ts";

const committed = JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as ReturnType<typeof buildDashboard>;
const exprs = (d: ReturnType<typeof buildDashboard>) => d.panels.flatMap((p) => p.targets.map((t) => t.expr));

describe("the Grafana dashboard", () => {
  test("is what the generator makes from today's registries (run `bun infrastructure/aws/grafana/dashboard.ts`)", () => {
    // Compared as data: Biome formats the committed file its own way.
    expect(committed).toEqual(JSON.parse(renderDashboard()));
  });

  test("has a panel for every metric the pipeline exports, and no pipeline metric it does not", () => {
    const families = metricFamilies();
    expect(families.map((f) => f.name).sort()).toEqual([
      "pixel_consumer_lag",
      "pixel_dead_letters_total",
      "pixel_generation_outcomes_total",
      "pixel_generation_retries_total",
      "pixel_generation_seconds",
      "pixel_generations_in_flight",
    ]);
    for (const f of families)
      expect(
        exprs(committed).some((e) => e.includes(f.name)),
        f.name,
      ).toBe(true);
    const named = new Set(
      exprs(committed)
        .flatMap((e) => e.match(/\bpixel_\w+/g) ?? [])
        .map((n) => n.replace(/_bucket$/, "")),
    );
    expect([...named].filter((n) => !families.some((f) => f.name === n))).toEqual([]);
  });

  test("a metric added to a registry gets its panel: counters as rates, histograms as quantiles", () => {
    const extended = buildDashboard(
      metricFamilies({
        relay: () =>
          "# HELP pixel_dead_letters_total Messages parked.\n# TYPE pixel_dead_letters_total counter\n" +
          "# HELP pixel_relay_seconds Relay time.\n# TYPE pixel_relay_seconds histogram\n",
      }),
    );
    const titles = extended.panels.map((p) => p.title);
    expect(titles).toContain("relay: Messages parked");
    expect(exprs(extended)).toContain("sum without (instance, pod) (rate(pixel_dead_letters_total[5m]))");
    expect(exprs(extended)).toContain("histogram_quantile(0.99, sum by (le) (rate(pixel_relay_seconds_bucket[5m])))");
  });

  test("is a well-formed Grafana dashboard: Prometheus data source variable, unique ids, no overlapping panels", () => {
    expect(committed.templating.list[0]).toMatchObject({ name: "datasource", type: "datasource", query: "prometheus" });
    const ids = committed.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = committed.panels.map((p) => `${p.gridPos.x},${p.gridPos.y}`);
    expect(new Set(cells).size).toBe(cells.length);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, literally.
    for (const p of committed.panels) expect(p.targets.every((t) => t.datasource.uid === "${datasource}")).toBe(true);
  });
});
