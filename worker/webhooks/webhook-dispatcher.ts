import { sha256Hex } from "../../shared/digest.ts";
import { errorMessage, isRetryable } from "../../shared/errors.ts";
import { isTerminal } from "../../shared/job-states.ts";
import type { Logger } from "../../shared/logger.ts";
import type { WebhookPolicy } from "../../shared/net/webhook-url.ts";
import { redisKeys, WEBHOOK_PROGRESS_INTERVAL_MS } from "../../shared/redis-keys.ts";
import { type StoredSnapshot, toPublicSnapshot } from "../../shared/snapshot.ts";
import { type StoredWebhookSecrets, signingSecrets } from "../../shared/webhook-secret.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import { luaScript } from "../redis/lua-script.ts";
import type { Redis, RedisSubscriber } from "../redis/redis-client.ts";
import { postPinned, REFUSED, type Resolve, resolveDestination, systemResolve } from "./destination.ts";
import { CLAIM_DUE, SETTLE } from "./lease-scripts.ts";
import { signDelivery } from "./standard-webhooks.ts";
import { createWakeLoop } from "./wake-loop.ts";

/** Delays before each retry, in ms: ten attempts over about two hours, as fal's queue does. */
export const WEBHOOK_RETRY_SCHEDULE_MS = [
  5_000, 15_000, 60_000, 120_000, 300_000, 600_000, 1_200_000, 1_800_000, 3_000_000,
];

/** The name dead letters of webhook deliveries are filed under (there is no consumer group). */
export const WEBHOOK_DISPATCHER = "webhook-dispatcher";

export interface WebhookDispatcherOptions {
  redis: Redis;
  prefix: string;
  /** ALLOW_PRIVATE_WEBHOOKS, WEBHOOK_ALLOW_HTTP and WEBHOOK_TIMEOUT_MS (the deadline of one attempt). */
  policy: WebhookPolicy & { timeoutMs?: number };
  /** Where a delivery that cannot even be attempted (its stored state does not parse) is parked. */
  deadLetters: Pick<DeadLetters, "park">;
  logger: Logger;
  /**
   * Where the dispatcher hears of deliveries queued by any process (APPLY_STATUS publishes on
   * `webhooksQueued`). Create it with `onResubscribed` calling `resubscribed`: what was published
   * while the connection was down never arrives.
   */
  subscriber: RedisSubscriber;
  schedule?: number[];
  /**
   * The longest sleep between two claims (default 5 s). Nothing is missed by sleeping: the claim
   * says when the next delivery, retry or lapsed lease is due, and a queued one wakes it. This
   * only bounds the delay when a wake-up is lost (the subscription was down).
   */
  maxIdleMs?: number;
  /** How long a claimed delivery is held before another dispatcher may take it (default twice the timeout). */
  leaseMs?: number;
  resolve?: Resolve;
  /**
   * WEBHOOK_CONCURRENCY and WEBHOOK_CONCURRENCY_PER_USER: deliveries in flight at once, in all and
   * per owner, so one user's slow endpoint holds at most `perUser` of the pool.
   */
  concurrency?: { total: number; perUser: number };
  /** How long a delivery whose owner already has `perUser` in flight waits before it is claimed again. */
  deferMs?: number;
  /** Extra trusted CA certificates (PEM), for tests with their own CA. */
  ca?: string;
  observe?: WebhookObserver;
}

/** What delivery reports for metrics: each attempt's outcome and time, and the queue after each claim. */
export interface WebhookObserver {
  attempt(outcome: "delivered" | "retry" | "given_up", seconds: number): void;
  backlog(count: number): void;
}

type Result = { ok: true; status: number } | { ok: false; reason: string; permanent: boolean };

const claimDue = luaScript(CLAIM_DUE);
const settle = luaScript(SETTLE);
/** A failed claim (Redis away or busy) is tried again this soon: it could not learn when the next is due. */
const RETRY_FAILED_CLAIM_MS = 250;

/**
 * A delivery id stable across retries of one event, so receivers can drop duplicates:
 * `msg_<generation id>_<status>` for an ending. A `start` or `progress` delivery (status
 * `processing`) also names the event count `seq`, so two progress deliveries never share an id.
 */
export const webhookDeliveryId = (generationId: string, status: string, seq?: number): string =>
  seq === undefined ? `msg_${generationId}_${status}` : `msg_${generationId}_${status}_${seq}`;

const asObject = (flat: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  const list = Array.isArray(flat) ? (flat as string[]) : [];
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
};

/**
 * Delivers generations to their `webhookUrl` — when they end, and when they start or progress if
 * the submit asked for those events — durably: due deliveries live in a Redis sorted set (queued
 * by the relay's Lua in the same step that applies the event, one pending per generation) and are
 * claimed with a lease (`lease-scripts.ts`), so a dispatcher dying mid-delivery loses nothing.
 * Each attempt checks the destination anew and connects to the checked address
 * (`destination.ts`); the body is the generation as `GET /api/generations/{id}` shows it, signed
 * with the owner's secrets per Standard Webhooks. Idle, it sleeps until the next member of the
 * due set is due (or a queued delivery's publish wakes it) rather than polling.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions) {
  const { redis, logger } = options;
  const keys = redisKeys(options.prefix);
  const schedule = options.schedule ?? WEBHOOK_RETRY_SCHEDULE_MS;
  const timeoutMs = options.policy.timeoutMs ?? 10_000;
  const leaseMs = options.leaseMs ?? 2 * timeoutMs;
  const resolve = options.resolve ?? systemResolve;
  const scriptKeys = [keys.webhooksDue(), keys.webhookLeases(), keys.webhookAttempts()];
  const total = options.concurrency?.total ?? 32;
  const perUser = options.concurrency?.perUser ?? 4;
  const deferMs = options.deferMs ?? 1_000;
  const queuedChannel = keys.webhooksQueued();
  const inFlight = new Set<Promise<void>>();
  const inFlightByUser = new Map<string, number>();

  async function secretsOf(userId: string): Promise<string[]> {
    const raw = await redis.send("HGETALL", [keys.webhookSecret(await sha256Hex(userId))]);
    return signingSecrets(asObject(raw) as StoredWebhookSecrets, Date.now());
  }

  async function deliver(snapshot: StoredSnapshot): Promise<Result> {
    const secrets = await secretsOf(snapshot.userId);
    if (secrets.length === 0) return { ok: false, reason: "the user has no webhook secret", permanent: true };
    const body = JSON.stringify(toPublicSnapshot(snapshot));
    const id = webhookDeliveryId(snapshot.id, snapshot.status, isTerminal(snapshot.status) ? undefined : snapshot.seq);
    const timestamp = new Date();
    try {
      const deadline = Date.now() + timeoutMs;
      const destination = await resolveDestination(snapshot.webhookUrl ?? "", options.policy, resolve, timeoutMs);
      const status = await postPinned(destination, {
        headers: {
          "content-type": "application/json",
          "user-agent": "pixel-studio-webhooks",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
          "webhook-signature": signDelivery(secrets, id, timestamp, body),
        },
        body,
        timeoutMs: Math.max(1, deadline - Date.now()),
        ...(options.ca ? { ca: options.ca } : {}),
      });
      if (status >= 200 && status < 300) return { ok: true, status };
      // Redirects are not followed: a moved endpoint must be updated, not silently chased.
      return { ok: false, reason: `HTTP ${status}`, permanent: false };
    } catch (error) {
      // A refused destination is final; DNS, connection and timeout failures are tried again.
      return { ok: false, reason: errorMessage(error), permanent: (error as { code?: string }).code === REFUSED };
    }
  }

  async function handle(id: string, attempt: number, token: string): Promise<void> {
    // The seq of the state sent: an event the webhook asked for since then is queued again on settling.
    let sentSeq = "";
    const done = async (outcome: "done" | "retry" | "defer", delay = 0) => {
      const settled = await settle(
        redis,
        [...scriptKeys, keys.snapshot(id)],
        [id, token, outcome, delay, sentSeq, WEBHOOK_PROGRESS_INTERVAL_MS],
      );
      if (settled !== 1) logger.warn("webhook lease ran out before the delivery settled", { generation: id });
    };
    const raw = await redis.send("GET", [keys.snapshot(id)]);
    const snapshot = typeof raw === "string" ? (JSON.parse(raw) as StoredSnapshot) : null;
    if (!snapshot?.webhookUrl) return done("done");
    // Queued for progress and ended since: the ending goes out only if the submit asked for it.
    if (isTerminal(snapshot.status) && snapshot.webhookEvents && !snapshot.webhookEvents.includes("completed"))
      return done("done");
    sentSeq = String(snapshot.seq);
    if (attempt > schedule.length + 1) {
      logger.error("webhook given up", { generation: id, attempts: attempt - 1, reason: "attempts exhausted" });
      return done("done");
    }
    // The owner already has its share of the pool busy: back to the due set, no attempt spent.
    const owner = snapshot.userId;
    const busy = inFlightByUser.get(owner) ?? 0;
    if (busy >= perUser) return done("defer", deferMs);
    inFlightByUser.set(owner, busy + 1);
    const began = performance.now();
    let result: Result;
    try {
      result = await deliver(snapshot);
    } finally {
      const left = (inFlightByUser.get(owner) ?? 1) - 1;
      if (left > 0) inFlightByUser.set(owner, left);
      else inFlightByUser.delete(owner);
    }
    const seconds = (performance.now() - began) / 1000;
    if (result.ok) {
      options.observe?.attempt("delivered", seconds);
      logger.info("webhook delivered", { generation: id, status: result.status, attempts: attempt });
      return done("done");
    }
    const delay = schedule[attempt - 1];
    if (result.permanent || delay === undefined) {
      options.observe?.attempt("given_up", seconds);
      logger.error("webhook given up", { generation: id, attempts: attempt, reason: result.reason });
      return done("done");
    }
    options.observe?.attempt("retry", seconds);
    logger.warn("webhook failed; will retry", {
      generation: id,
      attempts: attempt,
      reason: result.reason,
      retryInMs: delay,
    });
    return done("retry", delay);
  }

  /**
   * Claims as many due deliveries as the pool has room for and starts each at once. The pool is
   * continuous: a slot freed by a finished delivery is filled at once (`wake`), so a slow
   * receiver holds only its own slots, never a batch. Only what can start now is claimed, so no
   * claimed delivery waits here while its lease runs. Answers the ms until there is more to
   * claim (the wake loop sleeps that long): when the earliest member of the due set is due, or
   * -1 when only a freed slot can make room.
   */
  async function tick(): Promise<number> {
    const room = total - inFlight.size;
    if (room <= 0) return -1;
    const token = crypto.randomUUID();
    const reply = (await claimDue(redis, scriptKeys, [leaseMs, room, token])) as (string | number)[];
    const [nextMs, size, ...claimed] = reply;
    for (let i = 0; i + 1 < claimed.length; i += 2) {
      const job: Promise<void> = handleOrPark(String(claimed[i]), Number(claimed[i + 1]), token).finally(() => {
        inFlight.delete(job);
        wake();
      });
      inFlight.add(job);
    }
    options.observe?.backlog(Number(size));
    return inFlight.size < total ? Number(nextMs) : -1;
  }

  /**
   * A delivery failing on its own data (its stored state does not parse) is parked and settled;
   * one failing on an outage is left leased, so it is due again when the lease runs out.
   */
  async function handleOrPark(id: string, attempt: number, token: string): Promise<void> {
    try {
      await handle(id, attempt, token);
    } catch (error) {
      if (isRetryable(error)) {
        logger.warn("webhook delivery step failed; the lease will bring it back", { generation: id, error });
        return;
      }
      try {
        const raw = await redis.send("GET", [keys.snapshot(id)]);
        const source = { kind: "redis" as const, redisKey: keys.webhooksDue(), member: id };
        await options.deadLetters.park({ source, key: id, value: typeof raw === "string" ? raw : null, error });
        await settle(
          redis,
          [...scriptKeys, keys.snapshot(id)],
          [id, token, "done", 0, "", WEBHOOK_PROGRESS_INTERVAL_MS],
        );
      } catch (parkError) {
        logger.warn("could not park a webhook delivery; the lease will bring it back", {
          generation: id,
          error: parkError,
        });
      }
    }
  }

  // A freed slot, a settled delivery (its retry, defer or next event is then in the set), a
  // publish of a queued delivery and a resubscribe each wake it; a claim that failed is retried soon.
  const loop = createWakeLoop(
    () =>
      tick().catch((error) => {
        logger.warn("webhook dispatch failed", { error });
        return RETRY_FAILED_CLAIM_MS;
      }),
    options.maxIdleMs ?? 5_000,
  );
  const wake = loop.wake;

  return {
    /** Subscribes to queued deliveries, then claims; resolves once a later publish would wake it. */
    async start(): Promise<void> {
      await options.subscriber.subscribe(queuedChannel, wake);
      wake();
    },
    /** For the subscriber's `onResubscribed`: publishes may have been missed, so claim at once. */
    resubscribed(channels: string[]): void {
      if (channels.includes(queuedChannel)) wake();
    },
    /** Ends the subscription, finishes the deliveries in hand and stops claiming; safe to call twice. */
    async stop(): Promise<void> {
      await loop.stop();
      await options.subscriber
        .unsubscribe(queuedChannel)
        .catch((error) => logger.warn("webhook unsubscribe failed", { error }));
      await Promise.all(inFlight);
    },
  };
}
