import type { Context } from "hono";
import { JOB_STATUSES, type JobStatus } from "../shared/job-states.ts";
import type { Issue } from "../shared/schema/schema.ts";
import { UUID_V7, uuidv7Floor } from "../shared/uuid7.ts";
import { ApiError } from "./api-error.ts";
import type { ListQuery } from "./generation-list.ts";

const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)?$/;

/**
 * `GET /api/generations` query: `limit` (1–100, default 20), `cursor` (the last page's
 * `nextCursor`), `status` (comma-separated), `since` (inclusive) and `until` (exclusive) as ISO
 * 8601 dates or UTC instants. Dates become id bounds, ids being UUIDv7 (creation time).
 */
export function readListQuery(c: Context): ListQuery {
  const issues: Issue[] = [];
  const limitText = c.req.query("limit") ?? "20";
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100)
    issues.push({ path: "limit", message: "must be an integer from 1 to 100" });
  const cursor = c.req.query("cursor");
  if (cursor !== undefined && !UUID_V7.test(cursor)) issues.push({ path: "cursor", message: "is not a valid cursor" });
  const statusText = c.req.query("status");
  const statuses = statusText?.split(",").map((s) => s.trim());
  if (statuses?.some((s) => !(JOB_STATUSES as readonly string[]).includes(s)))
    issues.push({ path: "status", message: `must list values of ${JOB_STATUSES.join(", ")}` });
  const bound = (name: "since" | "until") => {
    const text = c.req.query(name);
    if (text === undefined) return undefined;
    const ms = INSTANT.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(ms)) {
      issues.push({
        path: name,
        message: "must be an ISO 8601 date or UTC instant, like 2026-11-27 or 2026-11-27T13:00:00Z",
      });
      return undefined;
    }
    return uuidv7Floor(ms);
  };
  const from = bound("since");
  const before = bound("until");
  if (issues.length)
    throw new ApiError(
      "invalid_request",
      `Invalid request: ${issues.map((i) => `${i.path} ${i.message}`).join("; ")}`,
      issues,
    );
  return {
    limit,
    ...(cursor ? { cursor } : {}),
    ...(statuses ? { statuses: statuses as JobStatus[] } : {}),
    ...(from ? { from } : {}),
    ...(before ? { before } : {}),
  };
}
