/** @upstash/ratelimit's Lua scripts (EVALSHA, falling back to EVAL) through the bridge. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis as Upstash } from "@upstash/redis";
import { startTestBridge, type TestBridge } from "./bridge-test-server.ts";

let bridge: TestBridge;
let redis: Upstash;

beforeAll(async () => {
  bridge = await startTestBridge();
  redis = new Upstash({ url: bridge.url, token: bridge.token, enableTelemetry: false });
});

afterAll(async () => {
  await bridge.stop();
});

const limiters = {
  slidingWindow: () => Ratelimit.slidingWindow(3, "60 s"),
  fixedWindow: () => Ratelimit.fixedWindow(3, "60 s"),
};

describe("@upstash/ratelimit through the bridge", () => {
  for (const [name, limiter] of Object.entries(limiters)) {
    test(`${name} lets 3 calls through, then limits, reporting remaining and reset`, async () => {
      // No in-memory cache and no timeout: every decision must come from Redis, never be waved through.
      const ratelimit = new Ratelimit({
        redis,
        limiter: limiter(),
        prefix: `${bridge.prefix}${name}`,
        ephemeralCache: false,
        timeout: 0,
      });
      const before = Date.now();
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await ratelimit.limit("user-1"));
      expect(results.map((r) => r.success)).toEqual([true, true, true, false, false]);
      expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0, 0]);
      for (const r of results) {
        expect(r.limit).toBe(3);
        expect(r.reason).toBeUndefined();
        expect(r.reset).toBeGreaterThan(before);
        expect(r.reset).toBeLessThanOrEqual(before + 120_000);
      }
      expect((await ratelimit.limit("user-2")).success).toBe(true);
      expect((await ratelimit.getRemaining("user-1")).remaining).toBe(0);
    });
  }
});
