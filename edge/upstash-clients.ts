/**
 * The one place the edge imports the Upstash SDKs. Production points them at Upstash; locally
 * and in tests they talk to our Upstash-compatible bridge over the real Redis.
 */
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
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
