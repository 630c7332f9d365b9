import { Hono } from "hono";
import { UUID_V7 } from "../../shared/uuid7.ts";
import type { HistoryDb } from "../history/history-db.ts";
import { HISTORY_STATUSES, type HistoryStatus } from "../history/history-schema.ts";
import type { Purger } from "../lifecycle/purge-generation.ts";
import { internalOnly } from "./internal-auth.ts";

export interface HistoryRoutesDeps {
  secret: string;
  history: Pick<HistoryDb, "get" | "listByUser" | "logs">;
  purger: Pick<Purger, "purge">;
}

const error = (code: string, message: string) => ({ error: { code, message } });
const USER_ID = /^.{1,128}$/su;

/**
 * The durable history and deletion for the edge, which stays on Web-standard APIs and reaches
 * the database only through these authenticated routes (WORKER_URL + an internal token):
 *
 * - `GET    /internal/users/{user}/generations?before=&from=&status=&limit=` → `{ items }`, newest first
 * - `GET    /internal/users/{user}/generations/{id}` → the record, 404 if not that user's
 * - `GET    /internal/users/{user}/generations/{id}/logs` → `{ entries }`, 404 if not that user's
 * - `DELETE /internal/users/{user}/generations/{id}` → 204 once every trace is gone, 404 if none
 *
 * `before` (exclusive) and `from` (inclusive) are ids, as cursors and as time bounds (UUIDv7).
 */
export function historyRoutes(deps: HistoryRoutesDeps): Hono {
  const app = new Hono();
  app.use("/internal/users/*", internalOnly(deps.secret));

  const params = (user: string | undefined, id?: string | undefined) => {
    if (!user || !USER_ID.test(user)) return error("invalid_request", "user must be 1–128 characters");
    if (id !== undefined && !UUID_V7.test(id)) return error("invalid_request", "id must be a UUIDv7");
    return null;
  };
  const owned = async (user: string, id: string) => {
    const record = await deps.history.get(id);
    return record && record.userId === user ? record : null;
  };

  app.get("/internal/users/:user/generations", async (c) => {
    const user = c.req.param("user");
    const bad = params(user);
    if (bad) return c.json(bad, 400);
    const { before, from, status, limit = "20" } = c.req.query();
    for (const [name, value] of [
      ["before", before],
      ["from", from],
    ] as const)
      if (value !== undefined && !UUID_V7.test(value))
        return c.json(error("invalid_request", `${name} must be a UUIDv7`), 400);
    const statuses = status?.split(",");
    if (statuses?.some((s) => !(HISTORY_STATUSES as readonly string[]).includes(s)))
      return c.json(error("invalid_request", `status must list values of ${HISTORY_STATUSES.join(", ")}`), 400);
    const count = Number(limit);
    if (!/^\d{1,4}$/.test(limit) || count < 1 || count > 1000)
      return c.json(error("invalid_request", "limit must be an integer from 1 to 1000"), 400);
    const items = await deps.history.listByUser(user, {
      limit: count,
      ...(before ? { before } : {}),
      ...(from ? { from } : {}),
      ...(statuses ? { statuses: statuses as HistoryStatus[] } : {}),
    });
    return c.json({ items });
  });

  app.get("/internal/users/:user/generations/:id", async (c) => {
    const { user, id } = c.req.param();
    const bad = params(user, id);
    if (bad) return c.json(bad, 400);
    const record = await owned(user, id);
    return record ? c.json(record) : c.json(error("not_found", `No generation ${id}`), 404);
  });

  app.get("/internal/users/:user/generations/:id/logs", async (c) => {
    const { user, id } = c.req.param();
    const bad = params(user, id);
    if (bad) return c.json(bad, 400);
    if (!(await owned(user, id))) return c.json(error("not_found", `No generation ${id}`), 404);
    return c.json({ entries: await deps.history.logs(id) });
  });

  app.delete("/internal/users/:user/generations/:id", async (c) => {
    const { user, id } = c.req.param();
    const bad = params(user, id);
    if (bad) return c.json(bad, 400);
    return (await deps.purger.purge(id, user))
      ? c.body(null, 204)
      : c.json(error("not_found", `No generation ${id}`), 404);
  });

  return app;
}
