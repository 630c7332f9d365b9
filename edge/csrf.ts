import type { MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "./api-error.ts";
import type { AuthEnv } from "./auth.ts";

/**
 * Cookie-authenticated form posts must come from the studio's own origin (hono/csrf: `Origin`,
 * or `Sec-Fetch-Site: same-origin`): a cookie rides along on a cross-site form post, a bearer
 * token cannot, so only requests authenticated by the cookie are checked (this runs after
 * `authenticate`). JSON bodies are
 * not "simple" requests, so a browser sends them cross-site only after a CORS preflight, which
 * this edge never grants.
 */
export function rejectCrossSiteForms(studioOrigin: string): MiddlewareHandler<AuthEnv> {
  const check = csrf({ origin: studioOrigin });
  return async (c, next) => {
    if (c.get("authenticatedBy") !== "cookie") return next();
    let passed = false;
    try {
      await check(c, async () => {
        passed = true;
      });
    } catch (error) {
      if (error instanceof HTTPException && error.status === 403)
        throw new ApiError("forbidden", `cross-site form post refused (Origin: ${c.req.header("origin") ?? "none"})`);
      throw error;
    }
    if (passed) await next();
  };
}
