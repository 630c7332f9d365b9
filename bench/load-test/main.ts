/**
 * `npm run load-test -- --profile steady|ramp|spike|soak [--seconds N] [--rate R] [--max N]
 * [--drain N] [--out DIR]`: drives the running stack (as `npm start` configures it, through .env)
 * through its public API and WebSockets, on loopback only, within hard bounds; writes
 * report.html and summary.json; exits 1 when an accepted generation was lost, duplicated or
 * left unfinished, 2 on bad arguments.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ENV_FILE, readEnvFile } from "../../infrastructure/env-file.ts";
import { ROOT } from "../../infrastructure/paths.ts";
import { ConfigError, parseConfig } from "../../shared/config/parse-config.ts";
import { createLogger } from "../../shared/logger.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createKafka } from "../../worker/kafka/kafka-client.ts";
import { metricsPort } from "../../worker/runtime/metrics-server.ts";
import { isProfile, LIMITS, PROFILES } from "./profiles.ts";
import { renderReport } from "./report.tsx";
import { runLoad } from "./run-load.ts";
import { summarize } from "./summary.ts";

const fail = (message: string, code = 2): never => {
  console.error(`load-test: ${message}`);
  process.exit(code);
};
const number = (name: string, raw: string | undefined, fallback: number, max: number, min = 1): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  return n;
};

const { values } = parseArgs({
  options: {
    profile: { type: "string", default: "steady" },
    seconds: { type: "string" },
    rate: { type: "string" },
    max: { type: "string" },
    drain: { type: "string" },
    out: { type: "string" },
  },
  strict: true,
});
const profile = values.profile ?? "steady";
if (!isProfile(profile)) fail(`--profile must be one of ${Object.keys(PROFILES).join(", ")}, got "${profile}"`);
const plan = {
  profile: profile as keyof typeof PROFILES,
  seconds: number(
    "seconds",
    values.seconds,
    PROFILES[profile as keyof typeof PROFILES].defaultSeconds,
    LIMITS.maxSeconds,
  ),
  rate: number("rate", values.rate, 4, LIMITS.maxRate, 0.1),
  max: number("max", values.max, 5000, LIMITS.maxGenerations),
  drain: number("drain", values.drain, 120, LIMITS.maxDrainSeconds),
};

const env = { ...readEnvFile(ENV_FILE), ...(process.env as Record<string, string>) };
let config: ReturnType<typeof parseConfig<"edge" | "auth" | "kafka" | "worker" | "metrics">>;
try {
  config = parseConfig(env, ["edge", "auth", "kafka", "worker", "metrics"]);
} catch (error) {
  if (error instanceof ConfigError) fail(`${error.message} (run it beside npm start, with the same environment)`, 1);
  throw error;
}
// Loopback only: this tool floods what it points at.
const edgeUrl = `http://127.0.0.1:${config.edge.port}`;
const topics = topicSpecs(config.kafka);
const metricsUrls =
  config.metrics.port === 0
    ? []
    : Array.from(
        { length: config.worker.instances },
        (_, i) => `http://127.0.0.1:${metricsPort(config.metrics.port, "worker", i + 1)}/metrics`,
      );
const health = await fetch(`${edgeUrl}/healthz`).catch(() => null);
if (!health?.ok) fail(`the edge at ${edgeUrl} is not healthy: start the pipeline first (npm start)`, 1);

const log = (line: string) => console.log(`[load-test] ${line}`);
const run = await runLoad({
  edgeUrl,
  jwtSecret: config.auth.jwtSecret,
  rateLimitPerMinute: config.edge.rateLimitPerMinute,
  profile: plan.profile,
  seconds: plan.seconds,
  rate: plan.rate,
  maxGenerations: plan.max,
  drainSeconds: plan.drain,
  kafka: createKafka({ config: config.kafka, logger: createLogger({ level: "error" }), retries: 3 }),
  topics,
  groups: [
    { groupId: config.kafka.consumerGroup, role: "workers", topics: [topics.requests.name] },
    { groupId: config.kafka.relayGroup, role: "relay", topics: [topics.requests.name, topics.status.name] },
    { groupId: config.kafka.historyGroup, role: "history", topics: [topics.complete.name, topics.failed.name] },
  ],
  metricsUrls,
  log,
});
const summary = summarize(run, plan);
const out = values.out ?? join(ROOT, ".data/load-test", `${summary.startedAt.replaceAll(":", "-")}-${plan.profile}`);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
writeFileSync(join(out, "report.html"), await renderReport(run, summary));
log(
  `${summary.accepted}/${summary.submitted} accepted, outcomes ${JSON.stringify(summary.outcomes)}; submit→end p50 ${summary.endToEnd.p50} ms, p99 ${summary.endToEnd.p99} ms`,
);
log(`lost ${summary.lost.length}, duplicated ${summary.duplicated.length}, unfinished ${summary.unfinished.length}`);
log(`report: ${join(out, "report.html")}`);
log(`summary: ${join(out, "summary.json")}`);
log(summary.ok ? "PASS" : "FAIL");
process.exit(summary.ok ? 0 : 1);
