import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";

/** Told about each answered request: the route pattern matched (never the raw path), method, status, time. */
export type RequestObserver = (route: string, method: string, status: number, seconds: number) => void;

/**
 * Observes every request of a Hono app; register before its routes. The route label is the
 * pattern that answered (`/api/generations/:id`), so ids never become label values.
 */
export function observeRequests(observe: RequestObserver): MiddlewareHandler {
  return async (c, next) => {
    const began = performance.now();
    try {
      await next();
    } finally {
      const handler = matchedRoutes(c)
        .filter((r) => r.method !== "ALL")
        .at(-1);
      observe(handler?.path ?? "unmatched", c.req.method, c.res.status, (performance.now() - began) / 1000);
    }
  };
}
