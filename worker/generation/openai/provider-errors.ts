/**
 * Turns an OpenAI-compatible error answer into a PipelineError whose `retryable` tells the
 * worker whether another attempt can help. OpenAI answers `{"error":{message,type,param,code}}`;
 * LocalAI uses the same envelope but its `code` may be a number.
 */
import { PipelineError } from "../../../shared/errors.ts";

interface UpstreamError {
  message?: string;
  type?: string;
  code?: string | number | null;
}

// DALL·E refuses with `content_policy_violation`, the GPT image models with `moderation_blocked`.
const CONTENT_POLICY_CODES = new Set(["content_policy_violation", "moderation_blocked"]);
const MAX_MESSAGE = 500;

export async function errorFromResponse(response: Response, now = Date.now()): Promise<PipelineError> {
  const upstream = parseError(await response.text().catch(() => ""));
  const status = response.status;
  const code = upstream.code === undefined || upstream.code === null ? undefined : String(upstream.code);
  const message = `image provider answered ${status}${upstream.message ? `: ${upstream.message.slice(0, MAX_MESSAGE)}` : ""}`;
  const details = { status, upstreamCode: code, upstreamType: upstream.type };

  if (status === 429 && (code === "insufficient_quota" || upstream.type === "insufficient_quota"))
    // Out of credit, not busy: retrying cannot help until someone pays.
    return new PipelineError("provider_error", message, { retryable: false, details });
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterSeconds = retryAfter(response.headers, now);
    return new PipelineError("provider_unavailable", message, {
      retryable: true,
      details: retryAfterSeconds === undefined ? details : { ...details, retryAfterSeconds },
    });
  }
  if (code && CONTENT_POLICY_CODES.has(code))
    return new PipelineError("content_policy", message, { retryable: false, details });
  return new PipelineError("provider_error", message, { retryable: false, details });
}

/** Seconds to wait from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an HTTP date). */
export function retryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

function parseError(text: string): UpstreamError {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") return { message: body.error };
    if (typeof body.error === "object" && body.error !== null) {
      const e = body.error as Record<string, unknown>;
      return {
        message: typeof e.message === "string" ? e.message : undefined,
        type: typeof e.type === "string" ? e.type : undefined,
        code: typeof e.code === "string" || typeof e.code === "number" ? e.code : undefined,
      };
    }
  } catch {
    // Proxies in front of the API answer HTML or plain text; keep a little of it.
  }
  return { message: text.trim().slice(0, MAX_MESSAGE) || undefined };
}
