import { sha256Hex } from "../shared/digest.ts";
import type { GenerationLogEntry } from "../shared/history.ts";
import { GENERATION_TTL_SECONDS, IN_FLIGHT_LEASE_MS, redisKeys, TOMBSTONE_TTL_SECONDS } from "../shared/redis-keys.ts";
import { APPLY_REQUEST, PURGE_GENERATION, SUBMIT_REQUEST } from "../shared/redis-scripts.ts";
import { queueScore, type StoredSnapshot } from "../shared/snapshot.ts";
import type { Redis } from "./upstash-clients.ts";

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * How long a claimed key waits for its answer when the request is queued on Kafka: a request
 * that crashed (its edge died) blocks repeats with 409 this long at most, not for the key's
 * whole day. A claim must outlive the request it guards (the synchronous path passes longer).
 */
export const IDEMPOTENCY_PENDING_TTL_SECONDS = 60;
const PENDING = "pending";
/** What a key records: the fingerprint of the request that claimed it and, once answered, the answer. */
type IdempotencyRecord = { fingerprint?: string; pending?: true; status?: number; body?: unknown };

/** The edge's reads and writes of generation state, through Upstash REST. */
export function createGenerationStore(redis: Redis, prefix: string) {
  const keys = redisKeys(prefix);
  const idempotencyKey = async (userId: string, key: string) =>
    keys.idempotency(await sha256Hex(userId), await sha256Hex(key));
  // EVALSHA with an EVAL fallback on NOSCRIPT: run on every submit, so the script text is sent once.
  const applyRequest = redis.createScript(APPLY_REQUEST);
  const submitRequest = redis.createScript<number>(SUBMIT_REQUEST);
  const purgeGeneration = redis.createScript(PURGE_GENERATION);
  const requestKeys = (snapshot: StoredSnapshot) => [
    keys.snapshot(snapshot.id),
    keys.userGenerations(snapshot.userId),
    keys.queue(snapshot.partition ?? 0),
    keys.deleted(snapshot.id),
  ];
  const requestArgs = (snapshot: StoredSnapshot) => [
    JSON.stringify(snapshot),
    snapshot.id,
    String(queueScore(snapshot.priority, snapshot.offset ?? "0")),
    String(GENERATION_TTL_SECONDS),
  ];
  const parse = (raw: unknown): StoredSnapshot | null =>
    typeof raw === "string" ? (JSON.parse(raw) as StoredSnapshot) : null;
  return {
    async get(id: string): Promise<StoredSnapshot | null> {
      return parse(await redis.get(keys.snapshot(id)));
    },
    async getMany(ids: string[]): Promise<(StoredSnapshot | null)[]> {
      if (ids.length === 0) return [];
      return (await redis.mget<unknown[]>(...ids.map(keys.snapshot))).map(parse);
    },
    /** Requests ahead of this one in its partition that no worker has started. */
    async queuePosition(snapshot: StoredSnapshot): Promise<number | undefined> {
      if (snapshot.status !== "queued" || snapshot.partition === undefined) return undefined;
      const rank = await redis.zrank(keys.queue(snapshot.partition), snapshot.id);
      return rank ?? undefined;
    },
    /** The same atomic write the relay does on the request event, done by the edge for read-your-writes. */
    async recordSubmitted(snapshot: StoredSnapshot): Promise<void> {
      await applyRequest.exec(requestKeys(snapshot), requestArgs(snapshot));
    },
    /**
     * A new submission, in one round trip: refused while more than `backlogMax` requests wait for
     * the workers or when its user is at `maxInFlight`; else counted against that cap and
     * recorded (`recordSubmitted`). A refusal writes nothing.
     */
    async admitSubmitted(
      snapshot: StoredSnapshot,
      limits: { maxInFlight: number; backlogMax: number },
    ): Promise<"admitted" | "in-flight-cap" | "backlog"> {
      const answer = Number(
        await submitRequest.exec(
          [...requestKeys(snapshot), keys.userInFlight(snapshot.userId), keys.backlog()],
          [...requestArgs(snapshot), String(limits.maxInFlight), String(IN_FLIGHT_LEASE_MS), String(limits.backlogMax)],
        ),
      );
      return answer === -3 ? "backlog" : answer === -2 ? "in-flight-cap" : "admitted";
    },
    /**
     * Takes back a recorded (or only admitted) submit that was answered 503. When its produce was
     * attempted, the request may still reach Kafka (the produce timed out, or the gateway gave up
     * on a batch Kafka may yet have written), and the relay or a worker may even have acted on it
     * already: it is deleted as its owner's DELETE would (PURGE_GENERATION, one step), queue
     * place and tombstone included, so whatever arrives about it later is dropped. The id is this
     * submit's own (a retry gets a new one), so the tombstone can stop nothing else. Otherwise
     * nothing but this edge wrote about it.
     */
    async forgetSubmitted(snapshot: StoredSnapshot, options: { mayReachKafka: boolean }): Promise<void> {
      if (options.mayReachKafka) {
        await purgeGeneration.exec(keys.purge(snapshot.id, snapshot.userId), [
          snapshot.id,
          String(TOMBSTONE_TTL_SECONDS),
          prefix,
        ]);
        return;
      }
      await Promise.all([
        redis.del(keys.snapshot(snapshot.id)),
        redis.zrem(keys.userGenerations(snapshot.userId), snapshot.id),
        redis.zrem(keys.userInFlight(snapshot.userId), snapshot.id),
      ]);
    },
    /**
     * The user's generation ids, newest first (UUIDv7 sorts by time): below `before` (exclusive)
     * and from `from` (inclusive) when given.
     */
    async listIds(userId: string, limit: number, before?: string, from?: string): Promise<string[]> {
      return redis.zrange<string[]>(
        keys.userGenerations(userId),
        before ? `(${before}` : "+",
        from ? `[${from}` : "-",
        {
          byLex: true,
          rev: true,
          offset: 0,
          count: limit,
        },
      );
    },
    /** The generation's log, oldest first. */
    async logs(id: string): Promise<GenerationLogEntry[]> {
      const lines = await redis.lrange<string>(keys.logs(id), 0, -1);
      return lines.map((line) => JSON.parse(line) as GenerationLogEntry);
    },
    async requestCancel(id: string): Promise<void> {
      await redis.set(keys.cancel(id), "1", { ex: GENERATION_TTL_SECONDS });
    },
    /**
     * Claims an Idempotency-Key for a request with this `fingerprint` (a digest of its body),
     * for `pendingSeconds` at most (longer than the request can take, or a repeat would run it
     * twice): null when this caller owns it now; else "pending" while the first is in progress,
     * "mismatch" when the key was used for another body, or the stored answer to replay.
     */
    async claimIdempotency(
      userId: string,
      key: string,
      fingerprint: string,
      pendingSeconds: number,
    ): Promise<null | typeof PENDING | "mismatch" | { status: number; body: unknown }> {
      const k = await idempotencyKey(userId, key);
      const claim: IdempotencyRecord = { pending: true, fingerprint };
      if ((await redis.set(k, JSON.stringify(claim), { nx: true, ex: pendingSeconds })) === "OK") return null;
      const raw = await redis.get<string>(k);
      if (raw === null) return PENDING;
      // A bare "pending" is a claim written before records carried fingerprints.
      const record = (raw === PENDING ? { pending: true } : JSON.parse(raw)) as IdempotencyRecord;
      if (record.fingerprint !== undefined && record.fingerprint !== fingerprint) return "mismatch";
      if (record.pending || record.status === undefined) return PENDING;
      return { status: record.status, body: record.body };
    },
    /** Stores the answer to replay, and which generation it is for, so deleting that generation removes it. */
    async saveIdempotent(
      userId: string,
      key: string,
      fingerprint: string,
      response: { status: number; body: unknown },
      generationId: string,
    ): Promise<void> {
      const record = await idempotencyKey(userId, key);
      const answered: IdempotencyRecord = { fingerprint, ...response };
      // Issued together: the client sends both in one pipelined request.
      await Promise.all([
        redis.set(record, JSON.stringify(answered), { ex: IDEMPOTENCY_TTL_SECONDS }),
        redis.set(keys.idempotencyOf(generationId), record, { ex: IDEMPOTENCY_TTL_SECONDS }),
      ]);
    },
    async releaseIdempotency(userId: string, key: string): Promise<void> {
      await redis.del(await idempotencyKey(userId, key));
    },
    async ping(): Promise<boolean> {
      try {
        return (await redis.ping()) === "PONG";
      } catch {
        return false;
      }
    },
  };
}
export type GenerationStore = ReturnType<typeof createGenerationStore>;
