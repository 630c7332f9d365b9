import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AcceptedGeneration } from "../../shared/api-bodies.ts";
import { mintEventToken } from "../../shared/auth/event-token.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { isTerminal } from "../../shared/job-states.ts";
import { queuedSnapshot, toPublicSnapshot } from "../../shared/snapshot.ts";
import { UUID_V7, uuidv7 } from "../../shared/uuid7.ts";
import type { AbuseLimits } from "../abuse-limits.ts";
import { ApiError } from "../api-error.ts";
import type { AuthEnv } from "../auth.ts";
import type { EdgeDeps } from "../edge-deps.ts";
import { readIdempotencyKey, readSubmitBody, validateSubmit } from "../submit-body.ts";
import { SYNC_BUSY } from "../sync-generation.ts";

/** Seconds a refused submission is told to wait while the workers are behind or busy. */
const BUSY_RETRY_AFTER_SECONDS = 10;
const busy = (detail: string) =>
  new ApiError("unavailable", detail, undefined, { "Retry-After": String(BUSY_RETRY_AFTER_SECONDS) });

export function generationRoutes(deps: EdgeDeps, limits: AbuseLimits) {
  const { config, store, producer, logger } = deps;
  const app = new Hono<AuthEnv>();

  // Every call but a submission counts against the client address's read limit.
  const read = createMiddleware<AuthEnv>(async (c, next) => {
    await limits.read(c.get("clientIp"));
    await next();
  });

  /** Refuses a submission while more requests wait for the workers than BACKLOG_MAX_REQUESTS. */
  const checkBacklog = async () => {
    const backlog = await store.backlog().catch((error) => {
      logger.warn("could not read the backlog figure; admitting", { error });
      return null;
    });
    // Unknown (reporter down, figure expired) admits: a missing measurement is no evidence of a backlog.
    if (backlog !== null && backlog > config.edge.backlogMaxRequests)
      throw busy(`backlog of ${backlog} requests is over ${config.edge.backlogMaxRequests}`);
  };

  const own = async (id: string, userId: string) => {
    const snapshot = UUID_V7.test(id) ? await store.get(id) : null;
    // Another user's generation answers exactly like an unknown one.
    if (!snapshot || snapshot.userId !== userId) throw new ApiError("not_found", `No generation ${id}`);
    return snapshot;
  };

  app.post("/", async (c) => {
    const userId = c.get("userId");
    const idempotencyKey = readIdempotencyKey(c);
    const input = validateSubmit(await readSubmitBody(c), config.webhooks);

    await limits.submit(userId);
    if (c.get("authenticatedBy") === "cookie") await limits.anonymousSubmit(c.get("clientIp"));
    if (input.webhookUrl && !(await deps.webhookSecrets.exists(userId)))
      throw new ApiError("invalid_request", "no webhook secret", [
        { path: "webhookUrl", message: "needs a signing secret first: POST /api/webhook-secret" },
      ]);
    if (config.edge.kafkaEnabled) await checkBacklog();

    if (idempotencyKey) {
      const previous = await store.claimIdempotency(userId, idempotencyKey);
      if (previous === "pending")
        throw new ApiError("conflict", "A request with this Idempotency-Key is still in progress");
      if (previous) {
        c.header("Idempotent-Replayed", "true");
        const body = previous.body as { id?: string };
        if (body.id) c.header("Location", `/api/generations/${body.id}`);
        return c.json(previous.body as object, previous.status as 200 | 202);
      }
    }

    const { webhookUrl, ...params } = input;
    const request = RequestEvent.create({
      id: uuidv7(),
      userId,
      params,
      createdAt: new Date().toISOString(),
      attempt: 1,
      ...(webhookUrl ? { webhookUrl } : {}),
    });

    if (!config.edge.kafkaEnabled) {
      const result = await deps.generateNow(request).catch((error) => {
        if (idempotencyKey) void store.releaseIdempotency(userId, idempotencyKey);
        if (error?.code === SYNC_BUSY) throw busy(error.message);
        logger.error("synchronous generation failed", { error });
        throw new ApiError("unavailable", "The generator is unavailable, try again shortly", undefined, {
          "Retry-After": "2",
        });
      });
      if (idempotencyKey) await store.saveIdempotent(userId, idempotencyKey, { status: 200, body: result });
      return c.json(result, 200);
    }

    // Recorded before it is queued, so a 202 always means the generation can be read at once;
    // when Redis cannot take it (down, or refusing the write) the answer is 503 and nothing is queued.
    const recorded = queuedSnapshot(request);
    let written: { partition: number; offset: number };
    try {
      await store.recordSubmitted(recorded);
      written = await producer.produce(deps.requestsTopic, toKafkaMessage(RequestEvent, request, newTraceparent()));
    } catch (error) {
      if (idempotencyKey) await store.releaseIdempotency(userId, idempotencyKey).catch(() => {});
      await store.forgetSubmitted(recorded).catch(() => {});
      logger.error("could not record or queue the request", { error });
      throw new ApiError("unavailable", "The request could not be queued, try again shortly", undefined, {
        "Retry-After": "2",
      });
    }
    // Its Kafka position, for queue positions; best effort: the relay writes it from the request event too.
    await store
      .recordSubmitted(queuedSnapshot(request, { partition: written.partition, offset: String(written.offset) }))
      .catch((error) => logger.warn("could not record the request's Kafka position", { error }));

    const events = `${config.public.wsUrl}/ws/generations/${request.id}?token=${await mintEventToken(userId, request.id, config.auth.jwtSecret)}`;
    const body: AcceptedGeneration = {
      id: request.id,
      status: "queued" as const,
      createdAt: request.createdAt,
      params: request.params,
      links: {
        self: `/api/generations/${request.id}`,
        events,
        cancel: `/api/generations/${request.id}/cancel`,
      },
    };
    if (idempotencyKey) await store.saveIdempotent(userId, idempotencyKey, { status: 202, body });
    c.header("Location", body.links.self);
    return c.json(body, 202);
  });

  app.get("/", read, async (c) => {
    const limitText = c.req.query("limit") ?? "20";
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100)
      throw new ApiError("invalid_request", "Invalid request: limit must be an integer from 1 to 100", [
        { path: "limit", message: "must be an integer from 1 to 100" },
      ]);
    const cursor = c.req.query("cursor");
    if (cursor !== undefined && !UUID_V7.test(cursor))
      throw new ApiError("invalid_request", "Invalid request: cursor is not one this API returned", [
        { path: "cursor", message: "is not a valid cursor" },
      ]);
    const ids = await store.listIds(c.get("userId"), limit + 1, cursor);
    const page = ids.slice(0, limit);
    const snapshots = await store.getMany(page);
    const items = await Promise.all(
      snapshots.flatMap((s) => (s ? [store.queuePosition(s).then((position) => toPublicSnapshot(s, position))] : [])),
    );
    return c.json({ items, nextCursor: ids.length > limit ? (page.at(-1) ?? null) : null });
  });

  app.get("/:id", read, async (c) => {
    const snapshot = await own(c.req.param("id"), c.get("userId"));
    return c.json(toPublicSnapshot(snapshot, await store.queuePosition(snapshot)));
  });

  app.post("/:id/cancel", read, async (c) => {
    const snapshot = await own(c.req.param("id"), c.get("userId"));
    if (isTerminal(snapshot.status)) throw new ApiError("conflict", `Generation already ended: ${snapshot.status}`);
    await store.requestCancel(snapshot.id);
    return c.json(toPublicSnapshot(snapshot, await store.queuePosition(snapshot)), 202);
  });

  return app;
}
