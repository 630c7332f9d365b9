/**
 * The edge on Bun (local and containers): `bun edge/entry-bun.ts`. Only here can the edge keep
 * state across requests and listen on a second port, so only here does it export metrics, and
 * only here do concurrent submits share one produce call.
 */
import { ConfigError, parseConfig } from "../shared/config/parse-config.ts";
import { httpMetrics } from "../worker/runtime/http-metrics.ts";
import { Metrics, processMetrics } from "../worker/runtime/metrics.ts";
import { serveMetrics } from "../worker/runtime/metrics-server.ts";
import { edgeFromEnv } from "./edge-from-env.ts";

const registry = processMetrics(new Metrics());
const edge = edgeFromEnv(process.env, {
  terminal: process.stdout.isTTY,
  observe: httpMetrics(registry),
  nextTurn: setImmediate,
});
if (!edge.ok) {
  console.error(edge.problem);
  process.exit(1);
}
let metrics: ReturnType<typeof serveMetrics>;
try {
  const { metrics: config } = parseConfig(process.env, ["metrics"]);
  metrics = serveMetrics({ config, role: "edge", render: () => registry.render(), logger: edge.logger });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const server = Bun.serve({ hostname: edge.host, port: edge.port, fetch: edge.app.fetch });
edge.logger.info("edge listening", { url: server.url.href });
// Requests in flight finish before the process ends.
const stop = () => {
  metrics.stop();
  void server.stop().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
