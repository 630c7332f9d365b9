import type { Logger } from "../../shared/logger.ts";
import { redisKeys, TOMBSTONE_TTL_SECONDS } from "../../shared/redis-keys.ts";
import { PURGE_GENERATION } from "../../shared/redis-scripts.ts";
import type { StoredSnapshot } from "../../shared/snapshot.ts";
import type { HistoryDb } from "../history/history-db.ts";
import type { ImageStore } from "../images/image-store.ts";
import { luaScript } from "../redis/lua-script.ts";
import type { Redis } from "../redis/redis-client.ts";

const purgeScript = luaScript(PURGE_GENERATION);

export interface PurgerDeps {
  redis: Redis;
  prefix: string;
  history: Pick<HistoryDb, "get" | "remove" | "isImageUsedElsewhere">;
  store: Pick<ImageStore, "delete">;
  logger: Logger;
}

/**
 * Deletes generations for their owner: `DELETE /api/generations/{id}` and the retention sweep.
 * Order matters for what runs concurrently: the tombstone goes first (with every Redis key, in one
 * Lua step), so a worker still running the generation is canceled and every later writer drops or
 * removes what it writes; then the history rows; then the image files, unless another generation
 * stored the very same bytes (keys are content addresses, so identical images share a file).
 */
export function createPurger(deps: PurgerDeps) {
  const { redis, history, store, logger } = deps;
  const keys = redisKeys(deps.prefix);

  async function snapshotOf(id: string): Promise<StoredSnapshot | null> {
    const raw = await redis.send("GET", [keys.snapshot(id)]);
    return typeof raw === "string" ? (JSON.parse(raw) as StoredSnapshot) : null;
  }

  async function discardImages(imageKeys: string[], generationId: string): Promise<void> {
    for (const key of new Set(imageKeys)) {
      if (await history.isImageUsedElsewhere(key, generationId)) {
        logger.debug("image kept: another generation uses it", { generation: generationId, key });
        continue;
      }
      await store.delete(key);
    }
  }

  return {
    discardImages,
    /**
     * Removes every trace of the generation if `userId` owns it; false when nothing of it is left
     * or it is someone else's (which the caller answers alike, with 404). Running it again after a
     * failure part way finishes the job.
     */
    async purge(id: string, userId: string): Promise<boolean> {
      const [snapshot, row] = await Promise.all([snapshotOf(id), history.get(id)]);
      const owner = snapshot?.userId ?? row?.userId;
      if (owner === undefined || owner !== userId) return false;
      await purgeScript(redis, keys.purge(id, userId), [id, TOMBSTONE_TTL_SECONDS, deps.prefix]);
      await history.remove(id);
      const imageKeys = [snapshot?.imageKey, snapshot?.thumbnailKey, row?.image?.key, row?.thumbnail?.key];
      await discardImages(
        imageKeys.filter((k): k is string => typeof k === "string"),
        id,
      );
      logger.info("generation deleted", { generation: id, wasRunning: snapshot ? !snapshot.completedAt : false });
      return true;
    },
  };
}
export type Purger = ReturnType<typeof createPurger>;
