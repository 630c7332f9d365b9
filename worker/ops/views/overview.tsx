/** @jsxImportSource hono/jsx */
import { formatDuration } from "../../../shared/topics.ts";
import type { KafkaOverview } from "../kafka-overview.ts";
import type { MinutePoint } from "../minute-stats.ts";
import type { WorkerView } from "../worker-heartbeat.ts";
import { LineChart } from "./line-chart.tsx";

const ago = (ms: number) =>
  ms < 1000 ? "just now" : ms < 120_000 ? `${Math.round(ms / 1000)} s ago` : `${Math.round(ms / 60_000)} min ago`;
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);

export function KafkaSection(props: { overview: KafkaOverview | null; error: string | null }) {
  const { overview } = props;
  if (!overview) return <p class="error">Kafka is not answering: {props.error ?? "no data yet"}</p>;
  return (
    <div>
      {props.error && <p class="error">Last refresh failed: {props.error}</p>}
      <h2>Topics</h2>
      <table id="topics">
        <thead>
          <tr>
            <th>topic</th>
            <th>partitions</th>
            <th>retention</th>
            <th>records retained</th>
            <th>end offset</th>
            <th>replicas in sync</th>
          </tr>
        </thead>
        <tbody>
          {overview.topics.map((t) => (
            <tr data-topic={t.name}>
              <td>{t.name}</td>
              <td>{t.present ? t.partitions.length : <span class="error">missing</span>}</td>
              <td>{t.retentionMs === null ? "broker default" : formatDuration(t.retentionMs)}</td>
              <td>{t.records}</td>
              <td>{t.endOffset}</td>
              <td>
                {t.partitions.filter((p) => p.inSync >= p.replicas).length}/{t.partitions.length}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Consumer groups</h2>
      {overview.groups.map((g) => (
        <section class="group" data-group={g.groupId}>
          <h3>
            {g.groupId} <small>({g.role})</small> · {g.state} · {g.members.length} member(s) · lag{" "}
            <span class="lag-total">{g.lag}</span>
            {g.members.length === 0 && <span class="error"> · no consumer</span>}
          </h3>
          <table class="lag">
            <thead>
              <tr>
                <th>topic</th>
                <th>partition</th>
                <th>committed</th>
                <th>end</th>
                <th>lag</th>
              </tr>
            </thead>
            <tbody>
              {g.partitions.map((p) => (
                <tr data-partition={`${p.topic}/${p.partition}`}>
                  <td>{p.topic}</td>
                  <td>{p.partition}</td>
                  <td>{p.committed ?? "—"}</td>
                  <td>{p.end}</td>
                  <td class={p.lag > 0 ? "warn" : ""}>{p.lag}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
      <p class="muted">as of {new Date(overview.at).toISOString()}</p>
    </div>
  );
}

export function WorkersSection(props: { workers: WorkerView[] }) {
  if (props.workers.length === 0) return <p class="muted">No worker has sent a heartbeat yet.</p>;
  return (
    <table id="workers">
      <thead>
        <tr>
          <th>instance</th>
          <th>host · pid</th>
          <th>state</th>
          <th>in flight</th>
          <th>finished last minute</th>
          <th>completed / failed / canceled / expired</th>
          <th>retries</th>
          <th>last heartbeat</th>
          <th>metrics</th>
        </tr>
      </thead>
      <tbody>
        {props.workers.map((w) => (
          <tr data-worker={w.id} class={w.alive ? "" : "gone"}>
            <td>{w.instance}</td>
            <td>
              {w.host} · {w.pid}
            </td>
            <td>{w.alive ? "alive" : "gone"}</td>
            <td>
              {w.inFlight.length}/{w.maxConcurrent}
              {w.inFlight.map((g) => (
                <div>
                  <a href={`/ops/generations/${g.id}`}>{g.id}</a> <small>{ago(Date.now() - g.since)}</small>
                </div>
              ))}
            </td>
            <td>{w.lastMinute}</td>
            <td>
              {w.totals.completed} / <span class={w.totals.failed ? "warn" : ""}>{w.totals.failed}</span> /{" "}
              {w.totals.canceled} /{" "}
              {/* a heartbeat from a worker older than this console has no expired count */ w.totals.expired ?? 0}
            </td>
            <td>{w.totals.retries}</td>
            <td>{ago(w.ageMs)}</td>
            <td>{w.metricsUrl ? <code>{w.metricsUrl}</code> : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ChartsSection(props: { minutes: MinutePoint[] }) {
  const m = props.minutes;
  const pts = (f: (p: MinutePoint) => number | null) => m.map((p): [number, number | null] => [p.at, f(p)]);
  return (
    <div class="charts">
      <LineChart
        title="Throughput"
        unit="generations per minute"
        formatX={clock}
        series={[
          { name: "completed", color: "#1a7f37", points: pts((p) => p.completed) },
          { name: "failed", color: "#cf222e", points: pts((p) => p.failed) },
        ]}
      />
      <LineChart
        title="Queue latency"
        unit="seconds"
        formatX={clock}
        series={[
          { name: "p50", color: "#0969da", points: pts((p) => p.queueP50) },
          { name: "p99", color: "#8250df", points: pts((p) => p.queueP99) },
        ]}
      />
      <LineChart
        title="Generation time"
        unit="seconds"
        formatX={clock}
        series={[
          { name: "p50", color: "#0969da", points: pts((p) => p.generationP50) },
          { name: "p99", color: "#8250df", points: pts((p) => p.generationP99) },
        ]}
      />
    </div>
  );
}
