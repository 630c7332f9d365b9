/**
 * The alert rules are valid Prometheus rules, their promtool unit tests pass, every alert has a
 * test, and every series they use is one the pipeline exports (metric-catalogue.ts).
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { METRICS } from "../../worker/runtime/metric-catalogue.ts";

const dir = import.meta.dir;
const promtool = async (...args: string[]) => {
  const proc = Bun.spawn(["promtool", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
};
const rules = readFileSync(join(dir, "alerts.yml"), "utf8");

test("promtool check rules: the alert rules are valid", async () => {
  const { code, output } = await promtool("check", "rules", "alerts.yml");
  expect(output).toContain("SUCCESS: 8 rules found");
  expect(code).toBe(0);
});

test("promtool test rules: each alert fires on its cause and stays quiet otherwise", async () => {
  const { code, output } = await promtool("test", "rules", "alerts.rules-test.yml");
  expect(output).toContain("SUCCESS");
  expect(code).toBe(0);
});

test("promtool check config: the example scrape configuration and its rule file load", async () => {
  const { code, output } = await promtool("check", "config", "prometheus.yml");
  expect(output).toContain("is valid prometheus config file syntax");
  expect(code).toBe(0);
});

test("every alert has a unit test and uses only series the pipeline exports", () => {
  const tests = readFileSync(join(dir, "alerts.rules-test.yml"), "utf8");
  const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  expect(alerts.length).toBe(8);
  for (const alert of alerts) expect(tests).toContain(`alertname: ${alert}`);
  const exported = new Set(Object.values(METRICS).map((m) => m.name));
  const used = [...rules.matchAll(/\b(pixel_[a-z_]+)/g)].map((m) => (m[1] ?? "").replace(/_(bucket|count|sum)$/, ""));
  expect(used.filter((name) => !exported.has(name))).toEqual([]);
});
