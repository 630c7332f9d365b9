/**
 * The Lua scripts the edge runs through the bridge, by the SHA1 of their text as the client
 * sends it (what EVALSHA names): ours, and @upstash/ratelimit's single-region limiters. The
 * ratelimit hashes are the library's own constants (its `SCRIPTS` table, not exported): an
 * upgrade that changes a script fails ratelimit.test.ts, which runs the limiter through the
 * bridge, until the new hash is listed here. A new script of the edge's must be listed too.
 */
import { createHash } from "node:crypto";
import { APPLY_REQUEST, PURGE_GENERATION, ROTATE_WEBHOOK_SECRET, SUBMIT_REQUEST } from "../../shared/redis-scripts.ts";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

const EDGE_SCRIPTS: ReadonlyMap<string, string> = new Map([
  [sha1(APPLY_REQUEST), "APPLY_REQUEST (shared/redis-scripts.ts)"],
  [sha1(SUBMIT_REQUEST), "SUBMIT_REQUEST (shared/redis-scripts.ts)"],
  [sha1(PURGE_GENERATION), "PURGE_GENERATION (shared/redis-scripts.ts), a refused submit's take-back"],
  [sha1(ROTATE_WEBHOOK_SECRET), "ROTATE_WEBHOOK_SECRET (shared/redis-scripts.ts)"],
  ["b2efc02798c8e9b471a10f9b1d5745db89923ff3", "@upstash/ratelimit fixedWindow limit"],
  ["823cb2a5a902d69681244f5e28e5ebb8f2a89edd", "@upstash/ratelimit fixedWindow getRemaining"],
  ["74740bb3d7792848093cdef586b6b6037c455fd6", "@upstash/ratelimit slidingWindow limit"],
  ["7ca36169e0fc9caedd81b4eef8e99854c157f9b5", "@upstash/ratelimit slidingWindow getRemaining"],
  ["d60be5bd3d83482ae229309f1f7425424f891204", "@upstash/ratelimit tokenBucket limit"],
  ["40daf4a441df736f5c99f8b77bbe176c909e5de4", "@upstash/ratelimit tokenBucket getRemaining"],
  ["1861a700bafe96c833a483af6b1c28a8897cfdb0", "@upstash/ratelimit cachedFixedWindow limit"],
  ["eb82f0e853d2fc9a236fa9bfbe704fda6ac2fc36", "@upstash/ratelimit cachedFixedWindow getRemaining"],
]);

export const isEdgeScript = (sha: string): boolean => EDGE_SCRIPTS.has(sha);
