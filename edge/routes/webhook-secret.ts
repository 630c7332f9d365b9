import type { Context } from "hono";
import { Hono } from "hono";
import { type WebhookSecretCreated, webhookSecretRequest } from "../../shared/api-bodies.ts";
import { formatIssues } from "../../shared/schema/schema.ts";
import type { AbuseLimits } from "../abuse-limits.ts";
import { ApiError } from "../api-error.ts";
import type { AuthEnv } from "../auth.ts";
import type { EdgeDeps } from "../edge-deps.ts";
import { invalidJson } from "../submit-body.ts";

/** The body is optional; one that is sent must be JSON matching `webhookSecretRequest`. */
async function readOptionalBody(c: Context): Promise<{ revokePrevious?: boolean }> {
  const text = await c.req.text();
  if (text === "") return {};
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new ApiError("unsupported_media_type", `A body of type '${type}'`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidJson();
  }
  const parsed = webhookSecretRequest.parse(body);
  if (!parsed.ok)
    throw new ApiError("invalid_request", `Invalid request: ${formatIssues(parsed.issues)}`, parsed.issues);
  return parsed.value;
}

/**
 * `POST /api/webhook-secret`: creates the caller's webhook signing secret, or rotates it, and
 * shows it this once (`whsec_…`, Standard Webhooks form). After a rotation the previous secret
 * keeps signing beside the new one until `previousValidUntil`, so receivers can switch over;
 * `revokePrevious: true` ends it at once instead (a leaked secret).
 */
export function webhookSecretRoutes(deps: EdgeDeps, limits: AbuseLimits) {
  const app = new Hono<AuthEnv>();
  app.post("/", async (c) => {
    await limits.read(c.get("clientIp"));
    const options = await readOptionalBody(c);
    const created: WebhookSecretCreated = await deps.webhookSecrets.rotate(c.get("userId"), options);
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
  });
  return app;
}
