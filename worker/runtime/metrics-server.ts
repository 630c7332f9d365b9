/**
 * Each process's own metrics listener, apart from its public port: workers share WS_PORT through
 * SO_REUSEPORT, so a scrape there reaches any one of them, and /metrics is for operators, not
 * clients. It binds METRICS_HOST (loopback by default) at METRICS_PORT + the process's fixed
 * offset, and refuses to listen beyond loopback without a METRICS_TOKEN to check.
 */
import { timingSafeEqual } from "node:crypto";
import { ConfigError, type SectionConfig } from "../../shared/config/parse-config.ts";
import type { Logger } from "../../shared/logger.ts";
import { orExit } from "./entry.ts";
import type { ProcessRole } from "./metric-catalogue.ts";
import { Metrics, processMetrics } from "./metrics.ts";

/** Offsets from METRICS_PORT; worker instance N listens at offset 10 + N (N = 1…64). */
export const METRICS_PORT_OFFSETS: Record<ProcessRole, number> = {
  "kafka-rest-gateway": 0,
  "redis-rest-bridge": 1,
  "status-relay": 2,
  "history-writer": 3,
  edge: 4,
  "ops-console": 5,
  websocket: 6,
  worker: 10,
};

export function metricsPort(base: number, role: ProcessRole, instance = 1): number {
  if (base === 0) return 0;
  return base + METRICS_PORT_OFFSETS[role] + (role === "worker" ? instance : 0);
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Whether `authorization` is `Bearer <token>` for METRICS_TOKEN (compared in constant time). */
export const bearerMatches = (authorization: string | null | undefined, token: string): boolean =>
  same(/^Bearer (\S+)$/.exec(authorization ?? "")?.[1] ?? "", token);

export interface MetricsServerOptions {
  config: SectionConfig<"metrics">;
  role: ProcessRole;
  instance?: number;
  render(): string | Promise<string>;
  logger: Logger;
}

export function serveMetrics(options: MetricsServerOptions) {
  const { config, logger } = options;
  if (!LOOPBACK.has(config.host) && !config.token)
    throw new ConfigError([
      `METRICS_HOST ${config.host} is not loopback: set METRICS_TOKEN so scrapes are authenticated`,
    ]);
  const fetch = async (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path !== "/metrics" || request.method !== "GET") return new Response("not found\n", { status: 404 });
    if (config.token) {
      if (!bearerMatches(request.headers.get("authorization"), config.token))
        return new Response("unauthorized\n", { status: 401, headers: { "www-authenticate": "Bearer" } });
    }
    return new Response(await options.render(), { headers: { "content-type": "text/plain; version=0.0.4" } });
  };
  const port = metricsPort(config.port, options.role, options.instance);
  const listen = (at: number) => Bun.serve({ hostname: config.host, port: at, fetch });
  let server: ReturnType<typeof listen>;
  try {
    server = listen(port);
  } catch (error) {
    // Metrics must never keep a process from its work: a taken port (another pipeline on this
    // machine, a test) moves the listener to a free one, said in the log with its address.
    if ((error as { code?: string }).code !== "EADDRINUSE") throw error;
    server = listen(0);
    logger.warn("metrics port taken; listening on a free port instead", { wanted: port, port: server.port });
  }
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${server.port}/metrics`;
  logger.info("metrics listening", { metricsUrl: url });
  return { url, stop: () => server.stop(true) };
}

/**
 * What an entry point calls: its registry, with the process series, served on its own listener.
 * A listener that may not start (a port taken, METRICS_HOST without a token) ends the process
 * with one line, as a bad configuration does.
 */
export function startProcessMetrics(
  config: SectionConfig<"metrics">,
  role: ProcessRole,
  logger: Logger,
  instance?: number,
) {
  const metrics = processMetrics(new Metrics());
  const server = orExit(() => serveMetrics({ config, role, instance, render: () => metrics.scrape(), logger }));
  return { metrics, url: server.url, stop: server.stop };
}
