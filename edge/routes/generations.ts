import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AcceptedGeneration, GenerationLinks, GenerationResource } from "../../shared/api-bodies.ts";
import { mintEventToken } from "../../shared/auth/event-token.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { type GenerationRecord, recordToSnapshot } from "../../shared/history.ts";
import { isTerminal, type JobStatus } from "../../shared/job-states.ts";
import { queuedSnapshot, type StoredSnapshot, toPublicSnapshot } from "../../shared/snapshot.ts";
import { UUID_V7, uuidv7, uuidv7Time } from "../../shared/uuid7.ts";
import type { AbuseLimits } from "../abuse-limits.ts";
import { ApiError } from "../api-error.ts";
import type { AuthEnv } from "../auth.ts";
import type { EdgeDeps } from "../edge-deps.ts";
import { type Listed, listGenerations } from "../generation-list.ts";
import { IDEMPOTENCY_PENDING_TTL_SECONDS } from "../generation-store.ts";
import { readListQuery } from "../list-query.ts";
import { readIdempotencyKey, readSubmitBody, requestFingerprint, validateSubmit } from "../submit-body.ts";
import { SYNC_BUSY, SYNC_IDEMPOTENCY_CLAIM_SECONDS } from "../sync-generation.ts";
import { isRedisError } from "../upstash-clients.ts";

/** Seconds a refused submission is told to wait while the workers are behind or busy. */
const BUSY_RETRY_AFTER_SECONDS = 10;
const busy = (detail: string) =>
  new ApiError("unavailable", detail, undefined, { "Retry-After": String(BUSY_RETRY_AFTER_SECONDS) });

type Found = { live: StoredSnapshot } | { record: GenerationRecord };

export function generationRoutes(deps: EdgeDeps, limits: AbuseLimits) {
  const { config, store, producer, history, logger } = deps;
  const app = new Hono<AuthEnv>();

  // Every call but a submission counts against the client address's read limit.
  const read = createMiddleware<AuthEnv>(async (c, next) => {
    await limits.read(c.get("clientIp"));
    await next();
  });

  /** Why a submission is refused before anything is queued (BACKLOG_MAX_REQUESTS, MAX_IN_FLIGHT_PER_USER). */
  const refusal = (verdict: "backlog" | "in-flight-cap") =>
    verdict === "backlog"
      ? busy(`backlog over ${config.edge.backlogMaxRequests} requests`)
      : new ApiError("too_many_in_flight", `over ${config.edge.maxInFlightPerUser} generations in flight`, undefined, {
          "Retry-After": String(BUSY_RETRY_AFTER_SECONDS),
        });

  /**
   * The history is another service: when it cannot answer, say so (503), never guess. A Redis
   * error on the way (listing merges live generations in) is Redis's, and is answered as one.
   */
  const fromHistory = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error) => {
      if (isRedisError(error)) throw error;
      logger.error("the history did not answer", { error });
      throw new ApiError("unavailable", "Generation history is unavailable", undefined, { "Retry-After": "2" });
    });

  /** The caller's generation, live (Redis) or ended long ago (history); another user's is unknown. */
  const find = async (id: string, userId: string): Promise<Found> => {
    if (!UUID_V7.test(id)) throw new ApiError("not_found", `No generation ${id}`);
    const live = await store.get(id);
    if (live) {
      // Another user's generation answers exactly like an unknown one.
      if (live.userId === userId) return { live };
      throw new ApiError("not_found", `No generation ${id}`);
    }
    const record = await fromHistory(history.get(userId, id));
    if (!record) throw new ApiError("not_found", `No generation ${id}`);
    return { record };
  };

  /** What a generation that has not ended offers: its live events (with a fresh token) and cancel. */
  const liveLinks = async (id: string, userId: string) => ({
    events: `${config.public.wsUrl}/ws/generations/${id}?token=${await mintEventToken(userId, id, config.auth.jwtSecret)}`,
    cancel: `/api/generations/${id}/cancel`,
  });
  const links = async (id: string, userId: string, status: JobStatus): Promise<GenerationLinks> => ({
    self: `/api/generations/${id}`,
    logs: `/api/generations/${id}/logs`,
    ...(isTerminal(status) ? {} : await liveLinks(id, userId)),
  });

  /** The public body of a generation, with its links (`events`/`cancel` while it has not ended). */
  const present = async (found: Found, userId: string): Promise<GenerationResource> => {
    const snapshot =
      "live" in found
        ? toPublicSnapshot(found.live, await store.queuePosition(found.live))
        : recordToSnapshot(found.record);
    return { ...snapshot, links: await links(snapshot.id, userId, snapshot.status) };
  };

  app.post("/", async (c) => {
    const userId = c.get("userId");
    const idempotencyKey = readIdempotencyKey(c);
    const submitted = await readSubmitBody(c);
    const input = validateSubmit(submitted, config.webhooks, c.req.header("cancel-after"));

    await limits.submit(userId);
    if (c.get("authenticatedBy") === "cookie") await limits.anonymousSubmit(c.get("clientIp"));
    if (input.webhookUrl && !(await deps.webhookSecrets.exists(userId)))
      throw new ApiError("invalid_request", "no webhook secret", [
        { path: "webhookUrl", message: "needs a signing secret first: POST /api/webhook-secret" },
      ]);

    const fingerprint = idempotencyKey ? await requestFingerprint(submitted, c.req.header("cancel-after")) : "";
    if (idempotencyKey) {
      const claimFor = config.edge.kafkaEnabled ? IDEMPOTENCY_PENDING_TTL_SECONDS : SYNC_IDEMPOTENCY_CLAIM_SECONDS;
      const previous = await store.claimIdempotency(userId, idempotencyKey, fingerprint, claimFor);
      if (previous === "pending")
        throw new ApiError("conflict", "A request with this Idempotency-Key is still in progress");
      if (previous === "mismatch")
        throw new ApiError("idempotency_key_reused", "Idempotency-Key reused with another request body");
      if (previous) {
        c.header("Idempotent-Replayed", "true");
        const body = previous.body as { id?: string };
        if (body.id) c.header("Location", `/api/generations/${body.id}`);
        return c.json(previous.body as object, previous.status as 200 | 202);
      }
    }

    const { webhookUrl, webhookEvents, priority, startDeadline, ...params } = input;
    const id = uuidv7();
    const request = RequestEvent.create({
      id,
      userId,
      params,
      // The id's own time, so date filters (on ids) and createdAt always agree.
      createdAt: new Date(uuidv7Time(id)).toISOString(),
      attempt: 1,
      priority,
      ...(startDeadline ? { startDeadline } : {}),
      ...(webhookUrl ? { webhookUrl } : {}),
      ...(webhookEvents ? { webhookEvents } : {}),
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
      if (idempotencyKey)
        await store.saveIdempotent(userId, idempotencyKey, fingerprint, { status: 200, body: result }, request.id);
      return c.json(result, 200);
    }

    // One Redis step before it is queued: refused while the workers are BACKLOG_MAX_REQUESTS
    // behind or the user holds MAX_IN_FLIGHT_PER_USER generations (queued and running, on every
    // edge), else counted and recorded, so a 202 always means the generation can be read at once.
    // When Redis cannot take it (down, or refusing the write) the answer is 503 and nothing is queued.
    const recorded = queuedSnapshot(request);
    let verdict: Awaited<ReturnType<typeof store.admitSubmitted>> | undefined;
    let written: { partition: number; offset: number } | undefined;
    let produceAttempted = false;
    try {
      verdict = await store.admitSubmitted(recorded, {
        maxInFlight: config.edge.maxInFlightPerUser,
        backlogMax: config.edge.backlogMaxRequests,
      });
      if (verdict === "admitted") {
        produceAttempted = true;
        written = await producer.produce(deps.requestsTopic, toKafkaMessage(RequestEvent, request, newTraceparent()));
      }
    } catch (error) {
      // Forgotten (and tombstoned) before its key is free for a retry.
      await store.forgetSubmitted(recorded, { mayReachKafka: produceAttempted }).catch((forgetError: unknown) => {
        logger.error("could not take back a refused submit", { error: forgetError, generation: recorded.id });
      });
      if (idempotencyKey) await store.releaseIdempotency(userId, idempotencyKey).catch(() => {});
      logger.error("could not record or queue the request", { error });
      throw new ApiError("unavailable", "The request could not be queued, try again shortly", undefined, {
        "Retry-After": "2",
      });
    }
    if (!written) {
      // Refused by the script, which wrote nothing.
      if (idempotencyKey) await store.releaseIdempotency(userId, idempotencyKey).catch(() => {});
      throw refusal(verdict === "backlog" ? "backlog" : "in-flight-cap");
    }
    // Its Kafka position, for queue positions; best effort: the relay writes it from the request event too.
    // Written while the event token is signed: both are done before the 202.
    const [, live] = await Promise.all([
      store
        .recordSubmitted(queuedSnapshot(request, { partition: written.partition, offset: String(written.offset) }))
        .catch((error) => logger.warn("could not record the request's Kafka position", { error })),
      liveLinks(request.id, userId),
    ]);

    const body: AcceptedGeneration = {
      id: request.id,
      status: "queued" as const,
      createdAt: request.createdAt,
      priority,
      ...(startDeadline ? { startDeadline } : {}),
      params: request.params,
      links: {
        self: `/api/generations/${request.id}`,
        logs: `/api/generations/${request.id}/logs`,
        ...live,
      },
    };
    // The request is queued: a Redis that fails now must not turn it into a 503 the client would
    // retry (a second generation). The key stays pending until its claim lapses; a retry meanwhile is 409.
    if (idempotencyKey)
      await store
        .saveIdempotent(userId, idempotencyKey, fingerprint, { status: 202, body }, request.id)
        .catch((error) => logger.warn("could not record the Idempotency-Key's answer", { error }));
    c.header("Location", body.links.self);
    return c.json(body, 202);
  });

  app.get("/", read, async (c) => {
    const userId = c.get("userId");
    const page = await fromHistory(listGenerations(store, history, userId, readListQuery(c)));
    const items = await Promise.all(
      page.items.map((item: Listed) => present("live" in item ? { live: item.live } : { record: item.record }, userId)),
    );
    return c.json({ items, nextCursor: page.nextCursor });
  });

  app.get("/:id", read, async (c) => {
    const userId = c.get("userId");
    return c.json(await present(await find(c.req.param("id"), userId), userId));
  });

  app.get("/:id/logs", read, async (c) => {
    const userId = c.get("userId");
    const found = await find(c.req.param("id"), userId);
    const id = "live" in found ? found.live.id : found.record.id;
    const entries = "live" in found ? await store.logs(id) : await fromHistory(history.logs(userId, id));
    if (entries === null) throw new ApiError("not_found", `No generation ${id}`);
    return c.json({ id, entries });
  });

  app.post("/:id/cancel", read, async (c) => {
    const userId = c.get("userId");
    const found = await find(c.req.param("id"), userId);
    if (!("live" in found) || isTerminal(found.live.status)) {
      const status = "live" in found ? found.live.status : found.record.status;
      throw new ApiError("conflict", `Generation already ended: ${status}`);
    }
    await store.requestCancel(found.live.id);
    return c.json(await present(found, userId), 202);
  });

  /** Deletes the images and every trace of the generation; one still running is canceled first. */
  app.delete("/:id", read, async (c) => {
    const userId = c.get("userId");
    const id = c.req.param("id");
    await find(id, userId);
    if (!(await fromHistory(history.delete(userId, id)))) throw new ApiError("not_found", `No generation ${id}`);
    return c.body(null, 204);
  });

  return app;
}
