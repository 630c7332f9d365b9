/**
 * `npm run load-test`, briefly, against the whole pipeline as real processes that this test
 * starts: it passes when every accepted generation ends exactly once, and fails (exit 1) when
 * the workers stop and generations are left unfinished.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ProcessPipeline, startProcessPipeline } from "../../worker/testing/process-pipeline.ts";
import { runScript } from "../../worker/testing/run-script.ts";
import type { LoadSummary } from "./summary.ts";

let p: ProcessPipeline;
beforeAll(async () => {
  p = await startProcessPipeline({ workers: 1, env: { KAFKA_SESSION_TIMEOUT_MS: "30000" } });
}, 120_000);
afterAll(async () => {
  await p?.stop();
});

const loadTest = async (args: string[]) => {
  const out = mkdtempSync(join(tmpdir(), "load-test-"));
  const result = await runScript("bench/load-test/main.ts", [...args, "--out", out], p.env);
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as LoadSummary;
  return { ...result, summary, report: readFileSync(join(out, "report.html"), "utf8") };
};

test("a short steady run: every accepted generation followed to its end exactly once; report and summary written", async () => {
  const { code, stdout, summary, report } = await loadTest(["--profile", "steady", "--seconds", "4", "--rate", "3"]);
  expect(stdout).toContain("[load-test] PASS");
  expect(code).toBe(0);
  expect(summary).toMatchObject({ ok: true, profile: "steady", submitted: 12, accepted: 12, refused: {} });
  expect(summary.outcomes).toEqual({ completed: 12 });
  expect([summary.lost, summary.duplicated, summary.unfinished]).toEqual([[], [], []]);
  expect(summary.endToEnd.count).toBe(12);
  expect(summary.maxSockets.client).toBeGreaterThan(0);
  expect(report).toContain("PASS: every accepted generation ended exactly once");
  for (const chart of ["Throughput", "Submit to end latency", "Consumer lag", "Errors", "Open WebSockets"])
    expect(report).toContain(`data-chart="${chart}"`);
  expect(report).not.toContain("<script");
}, 120_000);

test("workers that stop leave generations unfinished: the run says which and exits 1", async () => {
  const worker = p.children.get("worker-1");
  worker?.kill("SIGSTOP");
  try {
    const { code, stdout, summary } = await loadTest([
      "--profile",
      "steady",
      "--seconds",
      "2",
      "--rate",
      "1",
      "--drain",
      "3",
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain("[load-test] FAIL");
    expect(summary.ok).toBe(false);
    expect(summary.accepted).toBe(2);
    expect(summary.unfinished).toHaveLength(2);
  } finally {
    worker?.kill("SIGCONT");
  }
}, 120_000);

test("bad arguments are refused with one line, before any load", async () => {
  const result = await runScript("bench/load-test/main.ts", ["--profile", "flood"], p.env);
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toBe('load-test: --profile must be one of steady, ramp, spike, soak, got "flood"');
  const tooLong = await runScript("bench/load-test/main.ts", ["--seconds", "99999"], p.env);
  expect(tooLong.code).toBe(2);
  expect(tooLong.stderr).toContain("--seconds must be a number from 1 to 3600");
});
