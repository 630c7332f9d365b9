import type { Context } from "hono";
import { paramRules } from "../shared/events/params.ts";
import { checkWebhookUrl, type WebhookPolicy } from "../shared/net/webhook-url.ts";
import { described, formatIssues, object, optional, type Schema, withDefault } from "../shared/schema/schema.ts";
import { ApiError } from "./api-error.ts";

export const MAX_BODY_BYTES = 16 * 1024;

/** A webhook URL passing `checkWebhookUrl`; its addresses are checked again when delivering. */
function webhookUrl(policy: WebhookPolicy): Schema<string> {
  return {
    parse(input, path = "") {
      if (typeof input !== "string") return { ok: false, issues: [{ path, message: "must be a URL string" }] };
      const checked = checkWebhookUrl(input, policy);
      return checked.ok
        ? { ok: true, value: checked.url.toString() }
        : { ok: false, issues: [{ path, message: checked.reason }] };
    },
    jsonSchema: () => ({
      type: "string",
      format: "uri",
      description: policy.allowPrivate
        ? "Absolute https: or http: URL, any host and port (ALLOW_PRIVATE_WEBHOOKS=true: local development only). " +
          "Needs the caller's webhook secret first (POST /api/webhook-secret)."
        : `Absolute https: URL on the default port${policy.allowHttp ? " (or http: on port 80)" : ""}, without ` +
          "credentials, naming a public host: no loopback, private or reserved address, no single-label or " +
          "localhost name. Every address the name resolves to is checked again at each delivery. Needs the " +
          "caller's webhook secret first (POST /api/webhook-secret).",
    }),
  };
}

const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;

export function submitSchema(webhooks: WebhookPolicy) {
  return object({
    prompt: paramRules.prompt,
    style: withDefault(paramRules.style, "pixel-art"),
    width: withDefault(paramRules.width, 1024),
    height: withDefault(paramRules.height, 1024),
    format: withDefault(paramRules.format, "webp"),
    seed: described(withDefault(paramRules.seed, randomSeed), "Random when absent; the seed used is returned."),
    webhookUrl: optional(webhookUrl(webhooks)),
  });
}

const NUMERIC_FIELDS = ["width", "height", "seed"];

/** Form fields arrive as strings; numbers written as plain digits become numbers. */
function fromForm(form: Record<string, unknown>): Record<string, unknown> {
  // No prototype: a field named "__proto__" becomes an own key (and is refused as unknown).
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(form)) {
    if (typeof value !== "string")
      throw new ApiError("invalid_request", "Invalid request", [{ path: key, message: "must be a text field" }]);
    if (value === "" && key !== "prompt") continue;
    out[key] = NUMERIC_FIELDS.includes(key) && /^\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** Clients see the fixed message of invalid_request, so what is wrong with the body is in `details` (path ""). */
export const invalidJson = () =>
  new ApiError("invalid_request", "Body is not valid JSON", [{ path: "", message: "is not valid JSON" }]);

/** Reads a JSON or HTML-form body (the size limit is enforced before this runs). */
export async function readSubmitBody(c: Context): Promise<unknown> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "application/json") {
    try {
      return await c.req.json();
    } catch {
      throw invalidJson();
    }
  }
  if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    try {
      return fromForm(await c.req.parseBody());
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError("invalid_request", "Body is not a valid form", [{ path: "", message: "is not a valid form" }]);
    }
  }
  throw new ApiError(
    "unsupported_media_type",
    "Send application/json, application/x-www-form-urlencoded or multipart/form-data",
  );
}

export function validateSubmit(body: unknown, webhooks: WebhookPolicy) {
  const result = submitSchema(webhooks).parse(body);
  if (!result.ok)
    throw new ApiError("invalid_request", `Invalid request: ${formatIssues(result.issues)}`, result.issues);
  return result.value;
}

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
export function readIdempotencyKey(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw new ApiError("invalid_request", "Invalid Idempotency-Key", [
      { path: "Idempotency-Key", message: "must be 1–255 visible ASCII characters" },
    ]);
  return key;
}
