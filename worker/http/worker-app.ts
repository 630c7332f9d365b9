import { Hono } from "hono";
import { isRetryable } from "../../shared/errors.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { formatIssues } from "../../shared/schema/schema.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { bearerMatches } from "../runtime/metrics-server.ts";
import { internalOnly } from "./internal-auth.ts";

export interface WorkerAppDeps {
  images: Hono;
  /** WebSocket and SSE routes (worker/ws). */
  live?: Hono;
}

export interface InternalAppDeps {
  metrics(): string | Promise<string>;
  /** Names of what is not ready; empty when ready. */
  notReady(): Promise<string[]>;
  /** The durable history and deletion, for the edge (history-routes.ts). */
  history?: Hono;
  internal: { secret: string; generateNow(request: RequestEvent): Promise<GenerationSnapshot> };
  /** METRICS_TOKEN: when set, `/metrics` wants it as a bearer token. */
  metricsToken?: string;
}

/** Headers a proxy (the internal load balancer, nginx) adds: a request bearing one was relayed. */
const RELAYED_BY = ["x-forwarded-for", "forwarded", "x-real-ip"];

const error = (code: string, message: string) => ({ error: { code, message } });
const notFound = (app: Hono) =>
  app.notFound((c) => c.json(error("not_found", `No route for ${c.req.method} ${c.req.path}`), 404));

/** The worker's public side (WS_PORT): liveness, images, WebSocket and SSE. */
export function createWorkerApp(deps: WorkerAppDeps) {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.route("/", deps.images);
  if (deps.live) app.route("/", deps.live);
  notFound(app);
  return app;
}

/**
 * The worker's internal side (WORKER_INTERNAL_PORT), for the orchestrator, Prometheus and the
 * edge (its synchronous path, and the durable history and deletion) only: never published. Metrics and readiness say what runs inside,
 * and a synchronous generation costs a whole render, so none of it is on the public port; the
 * generation route also wants a service token, in case the port is ever reachable after all.
 */
export function createInternalApp(deps: InternalAppDeps) {
  const app = new Hono();
  // Routing sees the path after the server resolved dot segments (`/internal/%2e%2e/metrics` is
  // `/metrics` here), so a proxy that forwards only /internal/* can still be led elsewhere; and
  // an empty segment (`//internal/...`) is never a route of ours. Neither gets past this point.
  app.use(async (c, next) => {
    if (c.req.path.includes("//") || c.req.path.includes("\\")) return c.json(error("not_found", "No such route"), 404);
    await next();
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const failing = await deps.notReady();
    return failing.length ? c.json({ status: "not-ready", failing }, 503) : c.json({ status: "ready" });
  });
  // For a scraper inside the network: with METRICS_TOKEN its bearer token, without it only a
  // direct request, never one a proxy relayed (whatever path the proxy thought it forwarded).
  app.get("/metrics", async (c) => {
    if (deps.metricsToken && !bearerMatches(c.req.header("authorization"), deps.metricsToken))
      return c.json(error("unauthorized", "/metrics needs METRICS_TOKEN"), 401, { "www-authenticate": "Bearer" });
    if (!deps.metricsToken && RELAYED_BY.some((name) => c.req.header(name) !== undefined))
      return c.json(error("not_found", `No route for ${c.req.method} ${c.req.path}`), 404);
    return c.text(await deps.metrics(), 200, { "content-type": "text/plain; version=0.0.4" });
  });
  if (deps.history) app.route("/", deps.history);
  app.post("/internal/generations", internalOnly(deps.internal.secret), async (c) => {
    const parsed = RequestEvent.parse(await c.req.json().catch(() => null));
    if (!parsed.ok) return c.json(error("invalid_request", formatIssues(parsed.issues)), 400);
    return c.json(await deps.internal.generateNow(parsed.value));
  });
  notFound(app);
  // A database or Redis that cannot answer right now: the caller may try again.
  app.onError((e, c) =>
    isRetryable(e)
      ? c.json(error("unavailable", "a backing service is unavailable, try again shortly"), 503)
      : c.json(error("internal", "internal error"), 500),
  );
  return app;
}
