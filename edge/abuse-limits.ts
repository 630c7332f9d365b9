import type { Logger } from "../shared/logger.ts";
import { ApiError } from "./api-error.ts";
import type { LimitDecision, RateLimiter } from "./upstash-clients.ts";

/** Seconds a client is told to wait when a limiter could not decide. */
const UNDECIDED_RETRY_AFTER_SECONDS = 2;

export interface AbuseLimiters {
  /** Per user id: submissions. */
  submitsPerUser: RateLimiter;
  /** Per client IP: new anonymous sessions, anonymous submissions, other API calls. */
  sessionsPerIp: RateLimiter;
  anonymousSubmitsPerIp: RateLimiter;
  /** All anonymous submissions together: the cost no spread of addresses can multiply. */
  anonymousSubmits: RateLimiter;
  readsPerIp: RateLimiter;
}

/**
 * Each check passes or throws: 429 with Retry-After when over the limit, 503 with Retry-After
 * when the limiter could not decide (Redis slow or down). It never fails open: a limit that a
 * slow Redis could switch off would be no limit.
 */
export function createAbuseLimits(limiters: AbuseLimiters, logger: Logger) {
  async function enforce(limiter: RateLimiter, identifier: string, what: string): Promise<void> {
    let decision: LimitDecision;
    try {
      decision = await limiter.limit(identifier);
    } catch (error) {
      decision = { decided: false, why: String(error) };
    }
    if (!decision.decided) {
      logger.warn("rate limiter could not decide; refusing the request", { limit: what, why: decision.why });
      throw new ApiError("unavailable", "Try again shortly", undefined, {
        "Retry-After": String(UNDECIDED_RETRY_AFTER_SECONDS),
      });
    }
    if (!decision.success) {
      const retryAfter = Math.max(1, Math.ceil((decision.reset - Date.now()) / 1000));
      throw new ApiError("rate_limited", `Too many requests (${what})`, undefined, {
        "Retry-After": String(retryAfter),
      });
    }
  }
  return {
    submit: (userId: string) => enforce(limiters.submitsPerUser, userId, "submissions per user"),
    async anonymousSubmit(ip: string): Promise<void> {
      await enforce(limiters.anonymousSubmitsPerIp, ip, "anonymous submissions per client address");
      await enforce(limiters.anonymousSubmits, "all", "anonymous submissions of all users");
    },
    newSession: (ip: string) => enforce(limiters.sessionsPerIp, ip, "new sessions per client address"),
    read: (ip: string) => enforce(limiters.readsPerIp, ip, "requests per client address"),
  };
}
export type AbuseLimits = ReturnType<typeof createAbuseLimits>;
