import type { Context } from "hono";
import { paramRules } from "../shared/events/params.ts";
import { described, formatIssues, object, optional, type Schema, withDefault } from "../shared/schema/schema.ts";
import { ApiError } from "./api-error.ts";

export const MAX_BODY_BYTES = 16 * 1024;

const PRIVATE_HOST =
  /^(localhost|.*\.localhost|127\.\d+\.\d+\.\d+|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+|0\.0\.0\.0|\[::1?\]|\[f[cd][0-9a-f]{2}:.*\]|\[fe80:.*\])$/i;

function webhookUrl(allowPrivate: boolean): Schema<string> {
  return {
    parse(input, path = "") {
      if (typeof input !== "string") return { ok: false, issues: [{ path, message: "must be a URL string" }] };
      let url: URL;
      try {
        url = new URL(input);
      } catch {
        return { ok: false, issues: [{ path, message: "must be an absolute URL" }] };
      }
      // Plain http: only for local development, together with loopback/private hosts.
      if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:"))
        return { ok: false, issues: [{ path, message: "must use https:" }] };
      if (!allowPrivate && PRIVATE_HOST.test(url.hostname))
        return { ok: false, issues: [{ path, message: "must not point at a loopback or private host" }] };
      return { ok: true, value: url.toString() };
    },
    jsonSchema: () => ({
      type: "string",
      format: "uri",
      description: allowPrivate
        ? "Absolute https: or http: URL; loopback and private hosts are allowed (ALLOW_PRIVATE_WEBHOOKS=true)."
        : "Absolute https: URL of a public host; loopback and private hosts are refused.",
    }),
  };
}

const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;

export function submitSchema(allowPrivateWebhooks: boolean) {
  return object({
    prompt: paramRules.prompt,
    style: withDefault(paramRules.style, "pixel-art"),
    width: withDefault(paramRules.width, 1024),
    height: withDefault(paramRules.height, 1024),
    format: withDefault(paramRules.format, "webp"),
    seed: described(withDefault(paramRules.seed, randomSeed), "Random when absent; the seed used is returned."),
    webhookUrl: optional(webhookUrl(allowPrivateWebhooks)),
  });
}

const NUMERIC_FIELDS = ["width", "height", "seed"];

/** Form fields arrive as strings; numbers written as plain digits become numbers. */
function fromForm(form: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(form)) {
    if (typeof value !== "string")
      throw new ApiError("invalid_request", "Invalid request", [{ path: key, message: "must be a text field" }]);
    if (value === "" && key !== "prompt") continue;
    out[key] = NUMERIC_FIELDS.includes(key) && /^\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** Reads a JSON or HTML-form body (the size limit is enforced before this runs). */
export async function readSubmitBody(c: Context): Promise<unknown> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "application/json") {
    try {
      return await c.req.json();
    } catch {
      throw new ApiError("invalid_request", "Body is not valid JSON");
    }
  }
  if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    try {
      return fromForm(await c.req.parseBody());
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError("invalid_request", "Body is not a valid form");
    }
  }
  throw new ApiError(
    "unsupported_media_type",
    "Send application/json, application/x-www-form-urlencoded or multipart/form-data",
  );
}

export function validateSubmit(body: unknown, allowPrivateWebhooks: boolean) {
  const result = submitSchema(allowPrivateWebhooks).parse(body);
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
