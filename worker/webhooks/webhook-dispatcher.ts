import { signWebhook, webhookDeliveryId } from "../../shared/auth/webhook-signature.ts";
import { isRetryable } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { type StoredSnapshot, toPublicSnapshot } from "../../shared/snapshot.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import type { Redis } from "../redis/redis-client.ts";

/** Delays before each retry, in ms: ten attempts over about two hours, as fal's queue does. */
export const WEBHOOK_RETRY_SCHEDULE_MS = [
  5_000, 15_000, 60_000, 120_000, 300_000, 600_000, 1_200_000, 1_800_000, 3_000_000,
];

/** The name dead letters of webhook deliveries are filed under (there is no consumer group). */
export const WEBHOOK_DISPATCHER = "webhook-dispatcher";

export interface WebhookDispatcherOptions {
  redis: Redis;
  prefix: string;
  secret: string;
  /** Where a delivery that cannot even be attempted (its stored state does not parse) is parked. */
  deadLetters: Pick<DeadLetters, "park">;
  logger: Logger;
  schedule?: number[];
  pollMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  observe?: WebhookObserver;
}

/** What delivery reports for metrics: each attempt's outcome and time, and the queue after each poll. */
export interface WebhookObserver {
  attempt(outcome: "delivered" | "retry" | "given_up", seconds: number): void;
  backlog(count: number): void;
}

export type DeliveryResult = { ok: true; status: number } | { ok: false; reason: string };

/**
 * Delivers terminal generations to their `webhookUrl`, durably: due deliveries live in a Redis
 * sorted set (queued by the relay's Lua in the same step that applies the terminal event), one
 * dispatcher claims each by ZREM, and a failure is put back with the next delay. The body is
 * the generation as `GET /api/generations/{id}` shows it, signed per Standard Webhooks.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions) {
  const { redis, logger } = options;
  const keys = redisKeys(options.prefix);
  const schedule = options.schedule ?? WEBHOOK_RETRY_SCHEDULE_MS;
  const doFetch = options.fetch ?? fetch;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const delivered: string[] = [];

  async function deliver(snapshot: StoredSnapshot): Promise<DeliveryResult> {
    const body = JSON.stringify(toPublicSnapshot(snapshot));
    const id = webhookDeliveryId(snapshot.id, snapshot.status);
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await doFetch(snapshot.webhookUrl ?? "", {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": await signWebhook(options.secret, id, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
      // Redirects are not followed: a moved endpoint must be updated, not silently chased.
      return { ok: false, reason: `HTTP ${response.status}` };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  }

  async function handle(id: string): Promise<void> {
    const raw = await redis.send("GET", [keys.snapshot(id)]);
    const snapshot = typeof raw === "string" ? (JSON.parse(raw) as StoredSnapshot) : null;
    if (!snapshot?.webhookUrl) return;
    const began = performance.now();
    const result = await deliver(snapshot);
    const seconds = (performance.now() - began) / 1000;
    const attempts = Number(await redis.send("HINCRBY", [keys.webhookAttempts(), id, "1"]));
    if (result.ok) {
      await redis.send("HDEL", [keys.webhookAttempts(), id]);
      delivered.push(id);
      options.observe?.attempt("delivered", seconds);
      logger.info("webhook delivered", { generation: id, status: result.status, attempts });
      return;
    }
    const delay = schedule[attempts - 1];
    if (delay === undefined) {
      await redis.send("HDEL", [keys.webhookAttempts(), id]);
      options.observe?.attempt("given_up", seconds);
      logger.error("webhook given up", { generation: id, attempts, reason: result.reason });
      return;
    }
    await redis.send("ZADD", [keys.webhooksDue(), String(Date.now() + delay), id]);
    options.observe?.attempt("retry", seconds);
    logger.warn("webhook failed; will retry", { generation: id, attempts, reason: result.reason, retryInMs: delay });
  }

  async function tick(): Promise<void> {
    const due = (await redis.send("ZRANGEBYSCORE", [
      keys.webhooksDue(),
      "-inf",
      String(Date.now()),
      "LIMIT",
      "0",
      "20",
    ])) as string[];
    await Promise.all(
      due.map(async (id) => {
        // ZREM decides which dispatcher owns the delivery when several run.
        if (Number(await redis.send("ZREM", [keys.webhooksDue(), id])) === 1) await handleOrPark(id);
      }),
    );
    if (options.observe) options.observe.backlog(Number(await redis.send("ZCARD", [keys.webhooksDue()])));
  }

  /** A delivery failing on its own data is parked; one failing on an outage goes back in the set. */
  async function handleOrPark(id: string): Promise<void> {
    try {
      await handle(id);
      return;
    } catch (error) {
      if (!isRetryable(error)) {
        const raw = await redis.send("GET", [keys.snapshot(id)]).catch(() => null);
        const value = typeof raw === "string" ? raw : null;
        const source = { kind: "redis" as const, redisKey: keys.webhooksDue(), member: id };
        try {
          await options.deadLetters.park({ source, key: id, value, error });
          return;
        } catch (parkError) {
          logger.warn("could not park a webhook delivery; will try again", { generation: id, error: parkError });
        }
      }
      await redis.send("ZADD", [keys.webhooksDue(), String(Date.now() + (schedule[0] ?? 5_000)), id]);
      throw error;
    }
  }

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((error) => logger.warn("webhook dispatch failed", { error }))
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(loop, options.pollMs ?? 250);
      });
  };

  return {
    start: loop,
    /** Generation ids delivered by this dispatcher (for tests and metrics). */
    delivered,
    /** Finishes the deliveries in hand and stops polling; safe to call twice. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
