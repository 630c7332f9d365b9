/**
 * How the worker's HTTP is served (Bun). Bun's default idle timeout, 10 s of silence on a
 * connection, would cut an SSE stream between two keep-alives and a synchronous generation in
 * the middle of its render; so both servers set their own.
 */
import type { Hono } from "hono";

/**
 * Seconds a worker's HTTP connection may stay silent (Bun's `idleTimeout`, at most 255). Above
 * the SSE keep-alive, and above the WebSocket load balancer's idle timeout
 * (infrastructure/aws/services.yml), so the load balancer never reuses a keep-alive connection
 * the worker has just closed (which it would answer with a 502).
 */
export const WORKER_HTTP_IDLE_TIMEOUT_S = 240;

/** The synchronous route: it sends nothing until the generation ends, which GENERATION_TIMEOUT_MS bounds. */
const SILENT_UNTIL_DONE = "/internal/generations";

/**
 * Serves the internal app (createInternalApp) on WORKER_INTERNAL_PORT. Instances on one host
 * share the port (SO_REUSEPORT), like the public one.
 */
export function serveInternal(app: Pick<Hono, "fetch">, listen: { host: string; port: number }) {
  return Bun.serve({
    hostname: listen.host,
    port: listen.port,
    reusePort: true,
    idleTimeout: WORKER_HTTP_IDLE_TIMEOUT_S,
    fetch(request, server) {
      if (new URL(request.url).pathname === SILENT_UNTIL_DONE) server.timeout(request, 0);
      return app.fetch(request);
    },
  });
}
