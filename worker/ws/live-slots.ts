import type { Logger } from "../../shared/logger.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { ACQUIRE_LIVE_SLOT, RENEW_LIVE_SLOT } from "../../shared/redis-scripts.ts";
import { luaScript } from "../redis/lua-script.ts";
import type { Redis } from "../redis/redis-client.ts";

const acquireScript = luaScript(ACQUIRE_LIVE_SLOT);
const renewScript = luaScript(RENEW_LIVE_SLOT);

export interface LiveSlot {
  /** Keeps the slot while the connection lives (renewed in the background); call once it is open. */
  hold(): void;
  /** Frees the slot; safe to call twice. */
  release(): Promise<void>;
}

export type SlotRefusal = "user" | "address";

export interface LiveSlotsOptions {
  redis: Redis;
  prefix: string;
  maxPerUser: number;
  maxPerAddress: number;
  /** How long a slot outlives an instance that died holding it; renewed every third of it. */
  leaseMs: number;
  logger: Logger;
}

/**
 * Live connections (WebSocket and SSE alike) counted per user and per client address across
 * every instance, in Redis: a slot is taken atomically before the upgrade and held by a lease
 * that this instance renews while the connection is open. A crashed instance stops renewing,
 * so its slots come free within one lease instead of leaking forever.
 */
export function createLiveSlots(options: LiveSlotsOptions) {
  const { redis, logger } = options;
  const keys = redisKeys(options.prefix);
  const held = new Map<string, string[]>();
  const leaseMs = String(options.leaseMs);

  const renewAll = async () => {
    await Promise.all(
      [...held].map(([id, slotKeys]) =>
        renewScript(redis, slotKeys, [id, leaseMs]).catch((error) =>
          logger.warn("could not renew a live connection slot", { error }),
        ),
      ),
    );
  };
  const timer = setInterval(() => void renewAll(), Math.max(100, Math.floor(options.leaseMs / 3)));
  timer.unref();

  return {
    /** A slot, or which cap refused it. Rejects when Redis cannot decide (the caller refuses the connection). */
    async acquire(userId: string, address: string): Promise<LiveSlot | SlotRefusal> {
      const id = crypto.randomUUID();
      const slotKeys = [keys.liveByUser(userId), keys.liveByAddress(address)];
      const outcome = Number(
        await acquireScript(redis, slotKeys, [id, leaseMs, options.maxPerUser, options.maxPerAddress]),
      );
      if (outcome === 1) return "user";
      if (outcome === 2) return "address";
      let released: Promise<void> | null = null;
      return {
        hold: () => {
          if (!released) held.set(id, slotKeys);
        },
        release() {
          released ??= (async () => {
            held.delete(id);
            await Promise.all(slotKeys.map((key) => redis.send("ZREM", [key, id]))).catch((error) =>
              logger.warn("could not release a live connection slot; its lease will lapse", { error }),
            );
          })();
          return released;
        },
      };
    },
    /** Slots this instance holds open. */
    get held(): number {
      return held.size;
    },
    /** Stops renewing; slots still held lapse within one lease (their connections are being closed). */
    close(): void {
      clearInterval(timer);
    },
  };
}
export type LiveSlots = ReturnType<typeof createLiveSlots>;
