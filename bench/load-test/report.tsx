/** @jsxImportSource hono/jsx */
/**
 * The load test's HTML report: one self-contained page (inline SVG charts, no script) with the
 * verdict, the numbers, and throughput, latency percentiles, lag, errors and sockets over time.
 */
import { LineChart } from "../../worker/ops/views/line-chart.tsx";
import type { LoadRun } from "./run-load.ts";
import { type LoadSummary, windows } from "./summary.ts";

const s = (x: number) => `${Math.round(x)} s`;
const ms = (v: number | null) => (v === null ? "—" : `${Math.round(v)} ms`);

export async function renderReport(run: LoadRun, summary: LoadSummary): Promise<string> {
  // Windows of at least a few dozen generations at the usual rates, so p95 and p99 differ.
  const w = windows(run, run.endedAtSeconds > 300 ? 30 : run.endedAtSeconds >= 60 ? 10 : 5);
  const points = (values: (number | null)[]) => values.map((v, i): [number, number | null] => [w.at[i] ?? 0, v]);
  const sampled = (f: (sample: LoadRun["samples"][number]) => number | null | undefined) =>
    run.samples.map((x): [number, number | null] => [x.t, f(x) ?? null]);
  const verdict = summary.ok
    ? "PASS: every accepted generation ended exactly once"
    : `FAIL: ${summary.lost.length} lost, ${summary.duplicated.length} duplicated, ${summary.unfinished.length} unfinished`;
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{`Load test ${summary.profile} · ${summary.startedAt}`}</title>
      </head>
      <body>
        <h1>
          Load test: {summary.profile}, {summary.plannedSeconds} s at base rate {summary.baseRate}/s
        </h1>
        <p id="verdict">
          <strong>{verdict}</strong>
        </p>
        <table>
          <tbody>
            <tr>
              <th>started</th>
              <td>{summary.startedAt}</td>
              <th>ran</th>
              <td>{summary.ranSeconds} s</td>
            </tr>
            <tr>
              <th>submitted / accepted</th>
              <td>
                {summary.submitted} / {summary.accepted}
              </td>
              <th>refused</th>
              <td>{JSON.stringify(summary.refused)}</td>
            </tr>
            <tr>
              <th>outcomes</th>
              <td>{JSON.stringify(summary.outcomes)}</td>
              <th>sockets closed early (by code)</th>
              <td>{JSON.stringify(summary.socketsDropped)}</td>
            </tr>
            <tr>
              <th>submit latency p50 / p99</th>
              <td>
                {ms(summary.submitLatency.p50)} / {ms(summary.submitLatency.p99)}
              </td>
              <th>submit → end p50 / p95 / p99</th>
              <td>
                {ms(summary.endToEnd.p50)} / {ms(summary.endToEnd.p95)} / {ms(summary.endToEnd.p99)}
              </td>
            </tr>
            <tr>
              <th>max lag</th>
              <td>{JSON.stringify(summary.maxLag)}</td>
              <th>max sockets (client / server)</th>
              <td>
                {summary.maxSockets.client} / {summary.maxSockets.server ?? "—"}
              </td>
            </tr>
          </tbody>
        </table>
        <LineChart
          title="Throughput"
          unit="per second"
          formatX={s}
          width={900}
          series={[
            { name: "submitted", color: "#0969da", points: points(w.submitted) },
            { name: "completed", color: "#1a7f37", points: points(w.finished) },
            { name: "failed", color: "#cf222e", points: points(w.failed) },
          ]}
        />
        <LineChart
          title="Submit to end latency"
          unit="ms, by window of completion"
          formatX={s}
          width={900}
          series={[
            { name: "p50", color: "#0969da", points: points(w.latency.map((l) => l.p50)) },
            { name: "p95", color: "#bf8700", points: points(w.latency.map((l) => l.p95)) },
            { name: "p99", color: "#8250df", points: points(w.latency.map((l) => l.p99)) },
          ]}
        />
        <LineChart
          title="Consumer lag"
          unit="records"
          formatX={s}
          width={900}
          series={[
            { name: "workers", color: "#0969da", points: sampled((x) => x.lag.workers) },
            { name: "relay", color: "#bf8700", points: sampled((x) => x.lag.relay) },
            { name: "history", color: "#57606a", points: sampled((x) => x.lag.history) },
          ]}
        />
        <LineChart
          title="Errors"
          unit="per second"
          formatX={s}
          width={900}
          series={[
            { name: "submits refused", color: "#cf222e", points: points(w.refused) },
            { name: "generations failed", color: "#bc4c00", points: points(w.failed) },
            { name: "sockets dropped", color: "#8250df", points: points(w.drops) },
          ]}
        />
        <LineChart
          title="Open WebSockets"
          unit="sockets"
          formatX={s}
          width={900}
          series={[
            { name: "client (peak each second)", color: "#0969da", points: sampled((x) => x.clientSockets) },
            { name: "server", color: "#1a7f37", points: sampled((x) => x.serverSockets) },
          ]}
        />
        {!summary.ok && (
          <section>
            <h2>Problems</h2>
            <pre>
              {JSON.stringify(
                { lost: summary.lost, duplicated: summary.duplicated, unfinished: summary.unfinished },
                null,
                2,
              )}
            </pre>
          </section>
        )}
      </body>
    </html>
  );
  return `<!doctype html>${await page.toString()}`;
}
