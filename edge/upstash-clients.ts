/**
 * The one place the edge imports the Upstash SDKs. Production points them at Upstash; locally
 * and in tests they talk to our Upstash-compatible bridge over the real Redis.
 */
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";

export type { Redis } from "@upstash/redis";

export interface RateLimiter {
  /** `reset` is when the window frees a slot again, in Unix ms. */
  limit(identifier: string): Promise<{ success: boolean; reset: number }>;
}

export function createUpstashRedis(options: { url: string; token: string }): Redis {
  // JSON values are parsed by us (`automaticDeserialization: false`), so strings stay strings.
  return new Redis({ url: options.url, token: options.token, automaticDeserialization: false, retry: { retries: 1 } });
}

export function createRateLimiter(redis: Redis, options: { perMinute: number; prefix: string }): RateLimiter {
  return new Ratelimit({
    redis,
    limiter: Ratelimit.slidingWindow(options.perMinute, "60 s"),
    prefix: options.prefix,
    // No in-memory cache: every isolate must see the same counts, and tests must be exact.
    ephemeralCache: false,
  });
}
