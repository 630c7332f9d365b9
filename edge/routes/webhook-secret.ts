import { Hono } from "hono";
import type { AbuseLimits } from "../abuse-limits.ts";
import type { AuthEnv } from "../auth.ts";
import type { EdgeDeps } from "../edge-deps.ts";

/**
 * `POST /api/webhook-secret`: creates the caller's webhook signing secret, or rotates it, and
 * shows it this once (`whsec_…`, Standard Webhooks form). After a rotation the previous secret
 * keeps signing beside the new one until `previousValidUntil`, so receivers can switch over.
 */
export function webhookSecretRoutes(deps: EdgeDeps, limits: AbuseLimits) {
  const app = new Hono<AuthEnv>();
  app.post("/", async (c) => {
    await limits.read(c.get("clientIp"));
    const created = await deps.webhookSecrets.rotate(c.get("userId"));
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
  });
  return app;
}
