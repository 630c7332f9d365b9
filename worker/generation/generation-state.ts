import type { CompleteEvent, FailedEvent, StatusEvent } from "../../shared/events/events.ts";
import { GENERATION_TTL_SECONDS, redisKeys } from "../../shared/redis-keys.ts";
import { RELEASE_LEASE, RENEW_LEASE } from "../../shared/redis-scripts.ts";
import { luaScript } from "../redis/lua-script.ts";
import type { Redis } from "../redis/redis-client.ts";

const renewLease = luaScript(RENEW_LEASE);
const releaseLease = luaScript(RELEASE_LEASE);

/** The outcome a worker claimed for a generation: the one and only terminal result. */
export interface TerminalRecord {
  status: StatusEvent;
  outcome?: { topic: "complete"; event: CompleteEvent } | { topic: "failed"; event: FailedEvent };
  published: boolean;
  /** When it was claimed (Unix ms): how long its claimant has had to publish it. */
  claimedAt?: number;
}

/**
 * Per-generation coordination between worker instances, in Redis: the producer sequence, the
 * cancel flag the edge sets, and the terminal claim that makes a redelivered request end the
 * same way instead of a second time.
 */
export function createGenerationState(redis: Redis, prefix: string) {
  const keys = redisKeys(prefix);
  const ttl = String(GENERATION_TTL_SECONDS);
  return {
    /**
     * Reserves `count` producer sequence numbers and returns the first. Blocks only grow, so an
     * instance that takes over after a crash always numbers above everything reserved before.
     */
    async reserveSeqs(id: string, count: number): Promise<number> {
      const [top] = await Promise.all([
        redis.send("INCRBY", [keys.producerSeq(id), String(count)]),
        redis.send("EXPIRE", [keys.producerSeq(id), ttl]),
      ]);
      return Number(top) - count + 1;
    },
    /** Canceled by its owner, or deleted (a deletion cancels what still runs). */
    async isCanceled(id: string): Promise<boolean> {
      return Number(await redis.send("EXISTS", [keys.cancel(id), keys.deleted(id)])) > 0;
    },
    /** The lowest request attempt that may start (`redisKeys().attemptFloor`); 0 before any replay. */
    async attemptFloor(id: string): Promise<number> {
      return Number((await redis.send("GET", [keys.attemptFloor(id)])) ?? 0);
    },
    async isDeleted(id: string): Promise<boolean> {
      return Number(await redis.send("EXISTS", [keys.deleted(id)])) === 1;
    },
    /**
     * Removes the keys this worker wrote for a generation deleted while it ran. Called after the
     * worker's last write, so either the deletion already saw those keys or this removes them.
     */
    async forget(id: string): Promise<void> {
      await redis.send("DEL", [keys.producerSeq(id), keys.terminal(id), keys.cancel(id)]);
    },
    /** True when this caller won the claim; false when another worker already ended it. */
    async claimTerminal(id: string, record: TerminalRecord): Promise<boolean> {
      return (await redis.send("SET", [keys.terminal(id), JSON.stringify(record), "NX", "EX", ttl])) === "OK";
    },
    async terminal(id: string): Promise<TerminalRecord | null> {
      const raw = await redis.send("GET", [keys.terminal(id)]);
      return typeof raw === "string" ? (JSON.parse(raw) as TerminalRecord) : null;
    },
    /**
     * The right to publish a claim its claimant left unpublished, for `ms`: resolves the token it
     * is held under, or null while another worker holds it (it is publishing, or died less than
     * `ms` ago).
     */
    async leaseRepublish(id: string, ms: number): Promise<string | null> {
      const token = crypto.randomUUID();
      const taken = await redis.send("SET", [keys.republishing(id), token, "NX", "PX", String(ms)]);
      return taken === "OK" ? token : null;
    },
    /** Extends a held republish lease; false once it is no longer this token's. */
    async renewRepublish(id: string, token: string, ms: number): Promise<boolean> {
      return Number(await renewLease(redis, [keys.republishing(id)], [token, ms])) === 1;
    },
    /** Drops a republish lease, if this token still holds it. */
    async releaseRepublish(id: string, token: string): Promise<void> {
      await releaseLease(redis, [keys.republishing(id)], [token]);
    },
    async markPublished(id: string, record: TerminalRecord): Promise<void> {
      await redis.send("SET", [keys.terminal(id), JSON.stringify({ ...record, published: true }), "XX", "KEEPTTL"]);
    },
  };
}
export type GenerationState = ReturnType<typeof createGenerationState>;
