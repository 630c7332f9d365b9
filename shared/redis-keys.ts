/**
 * Every Redis key and channel the pipeline uses, built in one place because the edge (through
 * Upstash REST) and the container tier (directly) read and write the same data.
 */
export function redisKeys(prefix: string) {
  const keys = {
    snapshot: (id: string) => `${prefix}gen:${id}`,
    eventLog: (id: string) => `${prefix}gen:${id}:log`,
    producerSeq: (id: string) => `${prefix}gen:${id}:kseq`,
    cancel: (id: string) => `${prefix}gen:${id}:cancel`,
    terminal: (id: string) => `${prefix}gen:${id}:terminal`,
    /**
     * Set by a replay to the replayed attempt's number. A worker starts no request record of a
     * lower attempt: the failed attempt's own record, redelivered after the replay (request
     * records are placed round robin, so on any instance), would otherwise call the provider
     * beside the replay.
     */
    attemptFloor: (id: string) => `${prefix}gen:${id}:floor`,
    /**
     * Held (seconds, then it lapses) by the one worker publishing a terminal claim its claimant
     * left unpublished. No data, so a deletion leaves it to lapse rather than purging it.
     */
    republishing: (id: string) => `${prefix}gen:${id}:republishing`,
    /** The generation's log (attempts, worker, retries, errors, timings), oldest first. */
    logs: (id: string) => `${prefix}gen:${id}:logs`,
    /** Which Idempotency-Key record answers for this generation, so deleting it removes that too. */
    idempotencyOf: (id: string) => `${prefix}gen:${id}:idem`,
    /**
     * A deleted generation's tombstone: holds no data, only makes every later writer (relay,
     * worker, history writer) drop what Kafka still delivers about the id. Lives past the
     * topics' retention, so no record of the id can arrive after it expires.
     */
    deleted: (id: string) => `${prefix}deleted:${id}`,
    userGenerations: (userId: string) => `${prefix}user:${userId}:gens`,
    /**
     * Sorted set: the user's generations not yet ended (queued or running), scored by when their
     * lease lapses (Unix ms). The relay's APPLY_STATUS and PURGE_GENERATION build this name in Lua.
     */
    userInFlight: (userId: string) => `${prefix}user:${userId}:inflight`,
    queue: (partition: number) => `${prefix}queue:${partition}`,
    /**
     * Parts are SHA-256 hex digests (`idempotencyKey`), fixed length and free of `:`, so no two
     * (user, key) pairs share a key the way `idem:a:b:c` once did for ("a:b","c") and ("a","b:c").
     */
    idempotency: (userDigest: string, keyDigest: string) => `${prefix}idem:${userDigest}:${keyDigest}`,
    rateLimit: () => `${prefix}rl`,
    events: (id: string) => `${prefix}events:${id}`,
    /** Sorted set of generation ids whose webhook is due, scored by due time (Unix ms). */
    webhooksDue: () => `${prefix}webhooks:due`,
    /**
     * Channel (pub/sub): APPLY_STATUS publishes the generation id when it queues a delivery, so
     * idle webhook dispatchers claim at once instead of at their next look.
     */
    webhooksQueued: () => `${prefix}webhooks:queued`,
    /** Hash: generation id → delivery attempts made. */
    webhookAttempts: () => `${prefix}webhooks:attempts`,
    /** Sorted sets of live connection leases (WebSocket and SSE), scored by expiry (Unix ms). */
    liveByUser: (userId: string) => `${prefix}live:user:${userId}`,
    liveByAddress: (address: string) => `${prefix}live:ip:${address}`,
    /** Hash: worker id → its latest heartbeat (JSON), for the operations console. */
    opsWorkers: () => `${prefix}ops:workers`,
    /** Hash per minute (Unix minute): outcome counts and latency histogram buckets of all workers. */
    opsMinute: (minute: number) => `${prefix}ops:minute:${minute}`,
    /** Hash: generation id → token of the dispatcher holding its delivery lease. */
    webhookLeases: () => `${prefix}webhooks:leases`,
    /** Hash of a user's webhook signing secrets; `userDigest` is the SHA-256 hex of the user id. */
    webhookSecret: (userDigest: string) => `${prefix}whsec:${userDigest}`,
    /** The request topic's consumer lag as the relay last measured it (JSON, expires when stale). */
    backlog: () => `${prefix}backlog`,
  };
  return {
    ...keys,
    /** PURGE_GENERATION's KEYS, in its order: every key a generation of `userId` may have. */
    purge: (id: string, userId: string): string[] => [
      keys.deleted(id),
      keys.snapshot(id),
      keys.eventLog(id),
      keys.producerSeq(id),
      keys.cancel(id),
      keys.terminal(id),
      keys.logs(id),
      keys.idempotencyOf(id),
      keys.userGenerations(userId),
      keys.webhooksDue(),
      keys.webhookAttempts(),
      keys.webhookLeases(),
      keys.attemptFloor(id),
    ],
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;

/** How long generation data stays in Redis: as long as the request topic keeps the request. */
export const GENERATION_TTL_SECONDS = 7 * 24 * 60 * 60;
/** How long a tombstone lives: longer than the longest topic retention (7 days). */
export const TOMBSTONE_TTL_SECONDS = 8 * 24 * 60 * 60;
/**
 * How long a generation counts against its user's in-flight cap at most: it is taken off when it
 * ends; this only frees the place of one whose ending never reached Redis.
 */
export const IN_FLIGHT_LEASE_MS = 60 * 60 * 1000;
/** Events kept per generation for replay (`after=<seq>`), and lines of its log; a generation emits about ten. */
export const EVENT_LOG_MAX = 200;
/** Least time between two `progress` webhook deliveries of one generation (Replicate's is 500 ms too). */
export const WEBHOOK_PROGRESS_INTERVAL_MS = 500;
