/**
 * /readyz and /healthz for the roles that serve no HTTP API (status relay, history writer), so
 * container health checks probe them like every other role. Nothing else is served.
 */
export interface ReadinessServer {
  readonly port: number;
  stop(): Promise<void>;
}

const json = (body: unknown, status = 200) => Response.json(body, { status });

export function serveReadiness(options: {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Names of what is not ready; empty when ready. */
  notReady(): string[];
}): ReadinessServer {
  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (request.method !== "GET") return json({ error: { code: "method_not_allowed", message: "GET only" } }, 405);
      if (path === "/healthz") return json({ status: "ok" });
      if (path !== "/readyz") return json({ error: { code: "not_found", message: `No route for GET ${path}` } }, 404);
      const failing = options.notReady();
      return failing.length ? json({ status: "not-ready", failing }, 503) : json({ status: "ready" });
    },
  });
  return { port: server.port ?? options.port, stop: () => server.stop() };
}
