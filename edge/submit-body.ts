import type { Context } from "hono";
import { sha256Hex } from "../shared/digest.ts";
import { paramRules } from "../shared/events/params.ts";
import { PRIORITIES, WEBHOOK_EVENTS, type WebhookEvent } from "../shared/job-states.ts";
import { checkWebhookUrl, type WebhookPolicy } from "../shared/net/webhook-url.ts";
import {
  described,
  formatIssues,
  type Issue,
  object,
  oneOf,
  optional,
  type Schema,
  string,
  withDefault,
} from "../shared/schema/schema.ts";
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

/** Replicate's `webhook_events_filter`: a non-empty list of distinct event names. */
const webhookEvents: Schema<WebhookEvent[]> = {
  parse(input, path = "") {
    const fail = (message: string) => ({ ok: false as const, issues: [{ path, message }] });
    const one = oneOf(WEBHOOK_EVENTS);
    if (!Array.isArray(input) || input.length === 0)
      return fail(`must be a non-empty array of ${WEBHOOK_EVENTS.join(", ")}`);
    const out: WebhookEvent[] = [];
    for (const value of input) {
      const r = one.parse(value, path);
      if (!r.ok) return r;
      if (out.includes(r.value)) return fail(`lists ${r.value} twice`);
      out.push(r.value);
    }
    return { ok: true, value: out };
  },
  jsonSchema: () => ({
    type: "array",
    items: { type: "string", enum: [...WEBHOOK_EVENTS] },
    minItems: 1,
    maxItems: WEBHOOK_EVENTS.length,
    uniqueItems: true,
    description:
      "Which events POST to webhookUrl (needs webhookUrl): `start` (a worker started it), `progress` (at most " +
      "every 500 ms while it runs), `completed` (any ending). Default: `completed` only.",
  }),
};

/** Longest start deadline: the request topic keeps a request 7 days, a deadline of a day is plenty. */
export const MAX_CANCEL_AFTER_SECONDS = 24 * 60 * 60;
const DURATION = /^(?:(\d{1,5})h)?(?:(\d{1,7})m)?(?:(\d{1,9})s)?$/;

/**
 * `Cancel-After` (Replicate's header) or the `cancelAfter` field: a duration like `90s`, `5m`,
 * `1h30m`, or plain seconds; 1 s to 24 h. Returns seconds, or an issue.
 */
export function parseCancelAfter(text: string, path: string): { seconds: number } | { issue: Issue } {
  const trimmed = text.trim();
  const match = /^\d{1,9}$/.test(trimmed) ? [trimmed, undefined, undefined, trimmed] : DURATION.exec(trimmed);
  const [, h, m, sec] = match ?? [];
  const seconds = Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(sec ?? 0);
  if (!match || trimmed === "" || seconds < 1 || seconds > MAX_CANCEL_AFTER_SECONDS)
    return { issue: { path, message: "must be a duration from 1s to 24h, like 90s, 5m or 1h30m" } };
  return { seconds };
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
    priority: described(
      withDefault(oneOf(PRIORITIES), "normal"),
      "Which waiting requests a worker starts first: high, then normal, then low; a request passed over " +
        "GENERATION_PRIORITY_AGING times moves up a level, so none waits forever.",
    ),
    cancelAfter: optional(
      described(
        string({ min: 1, max: 32 }),
        "The `Cancel-After` header as a field (not both): a duration from 1s to 24h (`90s`, `5m`, `1h30m`, or " +
          "plain seconds). A request no worker has started by then ends `expired` without running.",
      ),
    ),
    webhookUrl: optional(webhookUrl(webhooks)),
    webhookEventsFilter: optional(webhookEvents),
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
    // A form lists webhook events as one comma-separated field.
    if (key === "webhookEventsFilter") out[key] = value.split(",").map((v) => v.trim());
    else out[key] = NUMERIC_FIELDS.includes(key) && /^\d+$/.test(value) ? Number(value) : value;
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

const invalid = (issues: Issue[]) =>
  new ApiError("invalid_request", `Invalid request: ${formatIssues(issues)}`, issues);

/**
 * The submitted fields, checked, with defaults; `cancelAfterHeader` is the `Cancel-After` header.
 * `startDeadline` is `now` plus the Cancel-After duration, when one was given.
 */
export function validateSubmit(
  body: unknown,
  webhooks: WebhookPolicy,
  cancelAfterHeader?: string,
  now: number = Date.now(),
) {
  const result = submitSchema(webhooks).parse(body);
  if (!result.ok) throw invalid(result.issues);
  const { cancelAfter, webhookEventsFilter, ...fields } = result.value;
  if (webhookEventsFilter && !fields.webhookUrl)
    throw invalid([{ path: "webhookEventsFilter", message: "needs a webhookUrl" }]);
  if (cancelAfter !== undefined && cancelAfterHeader !== undefined)
    throw invalid([{ path: "Cancel-After", message: "give the header or the cancelAfter field, not both" }]);
  const [duration, path] =
    cancelAfterHeader !== undefined ? [cancelAfterHeader, "Cancel-After"] : [cancelAfter, "cancelAfter"];
  let startDeadline: string | undefined;
  if (duration !== undefined) {
    const parsed = parseCancelAfter(duration, path);
    if ("issue" in parsed) throw invalid([parsed.issue]);
    startDeadline = new Date(now + parsed.seconds * 1000).toISOString();
  }
  return {
    ...fields,
    ...(webhookEventsFilter ? { webhookEvents: webhookEventsFilter } : {}),
    ...(startDeadline ? { startDeadline } : {}),
  };
}

/** `value` as JSON with every object's keys in order, so the same fields always read the same. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

/**
 * What an Idempotency-Key is bound to: the SHA-256 of the submitted fields (in any order, JSON or
 * form alike) and the Cancel-After header, so a repeat with another body is told apart (422)
 * instead of answered with the first request's result.
 */
export const requestFingerprint = (body: unknown, cancelAfterHeader: string | undefined): Promise<string> =>
  sha256Hex(canonicalJson({ body, cancelAfter: cancelAfterHeader ?? null }));

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
