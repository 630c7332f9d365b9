import { redisKeys } from "../../shared/redis-keys.ts";
import type { Redis } from "../redis/redis-client.ts";

/** Reads the tombstones deletions leave in Redis (see PURGE_GENERATION). */
export function createTombstones(redis: Redis, prefix: string) {
  const keys = redisKeys(prefix);
  return {
    async isDeleted(id: string): Promise<boolean> {
      return Number(await redis.send("EXISTS", [keys.deleted(id)])) === 1;
    },
    /** Which of `ids` are deleted; the client pipelines the lookups into one round trip. */
    async deletedAmong(ids: Iterable<string>): Promise<Set<string>> {
      const unique = [...new Set(ids)];
      const found = await Promise.all(unique.map((id) => redis.send("EXISTS", [keys.deleted(id)])));
      return new Set(unique.filter((_, i) => Number(found[i]) === 1));
    },
  };
}
export type Tombstones = ReturnType<typeof createTombstones>;
