import { redisKeys } from "../../shared/redis-keys.ts";
import type { StoredSnapshot } from "../../shared/snapshot.ts";
import type { EventMessage } from "../../shared/ws-messages.ts";
import type { Redis } from "../redis/redis-client.ts";

/** What a live feed reads from Redis: the snapshot, the queue position and the replay log. */
export function createFeedReader(redis: Redis, prefix: string) {
  const keys = redisKeys(prefix);
  return {
    async snapshot(id: string): Promise<StoredSnapshot | null> {
      const raw = await redis.send("GET", [keys.snapshot(id)]);
      return typeof raw === "string" ? (JSON.parse(raw) as StoredSnapshot) : null;
    },
    async queuePosition(snapshot: StoredSnapshot): Promise<number | undefined> {
      if (snapshot.status !== "queued" || snapshot.partition === undefined) return undefined;
      const rank = await redis.send("ZRANK", [keys.queue(snapshot.partition), snapshot.id]);
      return typeof rank === "number" ? rank : undefined;
    },
    /** Logged events with `seq` greater than `after`, oldest first. */
    async eventsAfter(id: string, after: number): Promise<EventMessage[]> {
      const raw = (await redis.send("LRANGE", [keys.eventLog(id), "0", "-1"])) as string[];
      return raw.map((m) => JSON.parse(m) as EventMessage).filter((m) => m.seq > after);
    },
  };
}
export type FeedReader = ReturnType<typeof createFeedReader>;
