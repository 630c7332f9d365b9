import type { RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import {
  EVENT_LOG_MAX,
  GENERATION_TTL_SECONDS,
  redisKeys,
  WEBHOOK_PROGRESS_INTERVAL_MS,
} from "../../shared/redis-keys.ts";
import { APPLY_REQUEST, APPLY_STATUS } from "../../shared/redis-scripts.ts";
import { queuedSnapshot, queueScore } from "../../shared/snapshot.ts";
import type { EventMessage } from "../../shared/ws-messages.ts";
import { luaScript } from "../redis/lua-script.ts";
import type { Redis } from "../redis/redis-client.ts";

const applyRequestScript = luaScript(APPLY_REQUEST);
const applyStatusScript = luaScript(APPLY_STATUS);

/** Keeps the per-generation snapshot, replay log, generation log and live channel in Redis. */
export function createSnapshotWriter(redis: Redis, prefix: string) {
  const keys = redisKeys(prefix);
  const runApplyStatus = (event: StatusEvent, extra: string[]) =>
    applyStatusScript(
      redis,
      [
        keys.snapshot(event.id),
        keys.eventLog(event.id),
        keys.events(event.id),
        keys.webhooksDue(),
        keys.deleted(event.id),
        keys.logs(event.id),
        keys.webhooksQueued(),
      ],
      [JSON.stringify(event), prefix, GENERATION_TTL_SECONDS, EVENT_LOG_MAX, WEBHOOK_PROGRESS_INTERVAL_MS, ...extra],
    );
  return {
    /** Records a request: creates the queued snapshot (or fills in what a status event could not know). */
    async applyRequest(event: RequestEvent, partition: number, offset: string): Promise<void> {
      await applyRequestScript(
        redis,
        [keys.snapshot(event.id), keys.userGenerations(event.userId), keys.queue(partition), keys.deleted(event.id)],
        [
          JSON.stringify(queuedSnapshot(event, { partition, offset })),
          event.id,
          String(queueScore(event.priority, offset)),
          GENERATION_TTL_SECONDS,
        ],
      );
    },
    /** Applies a status event; returns the message published to clients, or null if it was stale. */
    async applyStatus(event: StatusEvent): Promise<EventMessage | null> {
      const out = await runApplyStatus(event, []);
      return typeof out === "string" ? (JSON.parse(out) as EventMessage) : null;
    },
    /**
     * A worker's live apply of `event`, sent right behind its apply of the event numbered `after`
     * (0: none) without waiting for that one's reply. False, with nothing written, when the
     * snapshot has not reached `after` (that apply failed or has not run, or the snapshot is
     * gone): this one would land over the gap.
     */
    async applyLive(event: StatusEvent, after: number): Promise<boolean> {
      return (await runApplyStatus(event, [String(after)])) !== -1;
    },
  };
}
export type SnapshotWriter = ReturnType<typeof createSnapshotWriter>;
