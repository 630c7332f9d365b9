/**
 * The one place the edge imports the Upstash SDKs. Production points them at Upstash; locally
 * and in tests they talk to our Upstash-compatible bridge over the real Redis.
 */
import { Ratelimit } from "@upstash/ratelimit";
import { errors, Redis } from "@upstash/redis";
import { errorMessage } from "../shared/errors.ts";

export type { Redis } from "@upstash/redis";

/** A limiter's answer; `decided: false` when Redis did not answer in time or failed. */
export type LimitDecision = { decided: true; success: boolean; reset: number } | { decided: false; why: string };

export interface RateLimiter {
  /** `reset` is when the window frees a slot again, in Unix ms. */
  limit(identifier: string): Promise<LimitDecision>;
}

/** How long a limiter waits for Redis before it gives up deciding (and the request is refused). */
export const LIMITER_TIMEOUT_MS = 1000;

export function createUpstashRedis(options: { url: string; token: string }): Redis {
  // JSON values are parsed by us (`automaticDeserialization: false`), so strings stay strings.
  return new Redis({ url: options.url, token: options.token, automaticDeserialization: false, retry: { retries: 1 } });
}

export function createRateLimiter(
  redis: Redis,
  options: { limit: number; windowSeconds: number; prefix: string; timeoutMs?: number },
): RateLimiter {
  const ratelimit = new Ratelimit({
    redis,
    limiter: Ratelimit.slidingWindow(options.limit, `${options.windowSeconds} s`),
    prefix: options.prefix,
    // No in-memory cache: every isolate must see the same counts, and tests must be exact.
    ephemeralCache: false,
    timeout: options.timeoutMs ?? LIMITER_TIMEOUT_MS,
  });
  return {
    async limit(identifier) {
      try {
        const result = await ratelimit.limit(identifier);
        // On timeout the SDK answers `success: true, reason: "timeout"`: that is no decision.
        if (result.reason === "timeout") return { decided: false, why: "timeout" };
        return { decided: true, success: result.success, reset: result.reset };
      } catch (error) {
        return { decided: false, why: errorMessage(error) };
      }
    },
  };
}

/**
 * Redis's own error replies that no retry will change: a command against a key of another type,
 * a command the ACL user may not run, a script that fails. They mean our code or our data is
 * wrong — a 500 to log and fix, not an outage to wait out. (Plain `ERR` stays an outage: Upstash
 * answers its rate and quota limits with it.)
 */
// A command the SDK sent in its automatic pipeline fails as "Command failed: <reply>".
const PERMANENT_REPLY =
  /^(Command failed: )?(WRONGTYPE|NOPERM|ERR (user_script|Error running script|wrong number of arguments|unknown command))/;

/**
 * Whether a call failed because Redis could not answer: the REST endpoint refused or failed the
 * request (the SDK's UpstashError: an outage behind it, or its own 5xx), or could not be reached
 * at all (fetch rejected). Either is an outage of a dependency, never the caller's fault. A reply
 * in PERMANENT_REPLY is not: Redis answered, and said our request was wrong.
 */
export function isRedisFailure(error: unknown): boolean {
  return isRedisError(error) && !(error instanceof errors.UpstashError && PERMANENT_REPLY.test(error.message));
}

/** Whether an error came from a Redis call at all: a reply, an endpoint failure or no answer. */
export function isRedisError(error: unknown): boolean {
  return error instanceof errors.UpstashError || isFetchFailure(error);
}

/** fetch rejects (connection refused, reset, DNS, TLS) with a TypeError on Workers and Deno, coded errors on Bun. */
function isFetchFailure(error: unknown): boolean {
  const { name, code, message } = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  if (
    typeof code === "string" &&
    /^(E[A-Z]+|ConnectionRefused|ConnectionClosed|FailedToOpenSocket|UND_ERR_\w+)$/.test(code)
  )
    return true;
  return name === "TypeError" && /fetch|network|connect/i.test(String(message));
}
