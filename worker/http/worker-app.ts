import { Hono } from "hono";
import { isRetryable } from "../../shared/errors.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { formatIssues } from "../../shared/schema/schema.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { internalOnly } from "./internal-auth.ts";

export interface WorkerAppDeps {
  images: Hono;
  /** WebSocket and SSE routes (worker/ws). */
  live?: Hono;
}

export interface InternalAppDeps {
  metrics(): string;
  /** Names of what is not ready; empty when ready. */
  notReady(): Promise<string[]>;
  /** The durable history and deletion, for the edge (history-routes.ts). */
  history?: Hono;
  internal: { secret: string; generateNow(request: RequestEvent): Promise<GenerationSnapshot> };
}

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
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const failing = await deps.notReady();
    return failing.length ? c.json({ status: "not-ready", failing }, 503) : c.json({ status: "ready" });
  });
  app.get("/metrics", (c) => c.text(deps.metrics(), 200, { "content-type": "text/plain; version=0.0.4" }));
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
