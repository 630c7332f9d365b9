/**
 * Writes of generation state to Redis, as Lua so each is atomic: a status event is applied only
 * if it is newer than what the snapshot holds (`kseq`), and the snapshot, the replay log, the
 * generation log and the live publish then move together; an event a generation's webhook asked
 * for queues its delivery in the same step, so it is queued exactly once. `seq` on the client
 * side counts applied events, so it has no gaps even when a crashed worker reserved a producer
 * sequence it never used. A deleted generation's tombstone makes every write here a no-op.
 */

/**
 * KEYS: snapshot, user index, queue of the request's partition, tombstone.
 * ARGV: snapshot JSON, id, queue score (see `queueScore`), ttl.
 * The edge runs it before producing (no partition or offset yet: the snapshot is recorded, the
 * queue is left alone) and again after; the relay runs it for every request event. Whatever came
 * first, the snapshot ends up with the params and the Kafka position, written once each. Returns
 * -1 (and writes nothing) for a deleted generation.
 */
export const APPLY_REQUEST = `
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
local raw = redis.call('GET', KEYS[1])
local incoming = cjson.decode(ARGV[1])
local queued = true
if not raw then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
else
  local snap = cjson.decode(raw)
  local changed = false
  if snap.params == nil then
    snap.params = incoming.params
    snap.createdAt = incoming.createdAt
    snap.priority = incoming.priority
    snap.startDeadline = incoming.startDeadline
    snap.webhookUrl = incoming.webhookUrl
    snap.webhookEvents = incoming.webhookEvents
    changed = true
  end
  if snap.partition == nil and incoming.partition ~= nil then
    snap.partition = incoming.partition
    snap.offset = incoming.offset
    changed = true
  end
  if changed then redis.call('SET', KEYS[1], cjson.encode(snap), 'EX', ARGV[4]) end
  queued = snap.status == 'queued'
end
if queued and incoming.partition ~= nil then
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return queued and 1 or 0
`;

/**
 * KEYS: snapshot, event log, channel, webhooks due, tombstone, generation log, webhooks queued channel.
 * ARGV: status event JSON, key prefix (for the partition's queue, known only from the snapshot),
 * ttl, log max, least ms between two queued `progress` webhooks, and (a worker's live apply only)
 * the producer seq of the event it sent live before this one, 0 for none.
 * Returns the client message JSON, or nil when the event is stale, a duplicate, after the end or
 * about a deleted generation, or -1 (writing nothing) when the snapshot has not reached the event
 * the live apply names: the worker sends its applies without waiting for each other's replies, so
 * one sent after an apply that failed must not land over the gap (the relay applies both, in order).
 */
export const APPLY_STATUS = `
if redis.call('EXISTS', KEYS[5]) == 1 then return nil end
local ev = cjson.decode(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local snap
if raw then
  snap = cjson.decode(raw)
else
  snap = { id = ev.id, userId = ev.userId, seq = 0, kseq = 0, attempts = 0 }
end
local ended = { completed = true, failed = true, canceled = true, expired = true }
if ended[snap.status or ''] then return nil end
if ARGV[6] and tonumber(ARGV[6]) > (snap.kseq or 0) then return -1 end
-- The one terminal event (claimed in Redis before it is published) ends the generation even when
-- it is numbered below an event already applied: after a rebalance two workers may run the same
-- request for a while, and the loser's later-numbered progress must not make the outcome stale.
if ev.seq <= (snap.kseq or 0) and not ended[ev.status] then return nil end
local started = ev.status == 'processing' and snap.startedAt == nil
snap.kseq = math.max(ev.seq, snap.kseq or 0)
snap.seq = (snap.seq or 0) + 1
snap.status = ev.status
snap.progress = ev.progress
snap.stage = ev.stage
snap.attempts = ev.attempt
if started then snap.startedAt = ev.at end
if ended[ev.status] or ev.status == 'queued' then snap.preview = nil end
local msg
if ev.status == 'completed' then
  local img = ev.image
  snap.image = { url = img.url, width = img.width, height = img.height, format = img.format, bytes = img.bytes }
  snap.imageKey = img.key
  local th = ev.thumbnail
  if th then
    snap.thumbnail = { url = th.url, width = th.width, height = th.height, format = th.format, bytes = th.bytes }
    snap.thumbnailKey = th.key
  end
  snap.timings = ev.timings
  snap.completedAt = ev.at
  msg = { type = 'completed', id = ev.id, seq = snap.seq, image = snap.image, thumbnail = snap.thumbnail, timings = ev.timings }
elseif ev.status == 'failed' then
  snap.error = ev.error
  snap.completedAt = ev.at
  msg = { type = 'failed', id = ev.id, seq = snap.seq, error = ev.error, attempts = ev.attempt }
elseif ev.status == 'canceled' then
  snap.completedAt = ev.at
  msg = { type = 'canceled', id = ev.id, seq = snap.seq }
elseif ev.status == 'expired' then
  snap.completedAt = ev.at
  msg = { type = 'expired', id = ev.id, seq = snap.seq, startDeadline = snap.startDeadline or ev.at }
elseif ev.preview then
  local p = ev.preview
  snap.preview = { url = 'data:image/webp;base64,' .. p.data, width = p.width, height = p.height }
  msg = { type = 'preview', id = ev.id, seq = snap.seq, preview = snap.preview, progress = ev.progress, stage = ev.stage, at = ev.at }
else
  msg = { type = 'status', id = ev.id, seq = snap.seq, status = ev.status, progress = ev.progress, stage = ev.stage, at = ev.at }
end
-- An ended generation no longer counts against its user's in-flight cap (redisKeys().userInFlight).
if ended[ev.status] and snap.userId then redis.call('ZREM', ARGV[2] .. 'user:' .. snap.userId .. ':inflight', ev.id) end
if snap.partition ~= nil then
  local queue = ARGV[2] .. 'queue:' .. snap.partition
  if ev.status == 'queued' then
    local rank = ({ high = 0, normal = 1, low = 2 })[snap.priority or 'normal'] or 1
    redis.call('ZADD', queue, string.format('%.0f', rank * 1e15 + tonumber(snap.offset)), ev.id)
  else
    redis.call('ZREM', queue, ev.id)
  end
end
if snap.webhookUrl ~= nil then
  local wanted = { completed = snap.webhookEvents == nil }
  for _, name in ipairs(snap.webhookEvents or {}) do wanted[name] = true end
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  -- One pending delivery carries the latest state, so a queued one absorbs a later event;
  -- webhookQueuedSeq tells a dispatcher holding an older state to queue it again when it settles.
  local queued = 0
  if ended[ev.status] then
    if wanted.completed then
      -- CH: also counts a pending or leased delivery brought forward to now.
      queued = redis.call('ZADD', KEYS[4], 'CH', now, ev.id)
      snap.webhookQueuedSeq = snap.seq
    end
  elseif started then
    if wanted.start then
      queued = redis.call('ZADD', KEYS[4], 'NX', now, ev.id)
      snap.webhookQueuedSeq = snap.seq
    end
  elseif wanted.progress then
    local due = math.max(now, (snap.webhookProgressAt or 0) + tonumber(ARGV[5]))
    queued = redis.call('ZADD', KEYS[4], 'NX', due, ev.id)
    if queued == 1 then snap.webhookProgressAt = due end
    snap.webhookQueuedSeq = snap.seq
  end
  -- Dispatchers sleep until the earliest due time they know of: tell them of an earlier one.
  if queued == 1 then redis.call('PUBLISH', KEYS[7], ev.id) end
end
redis.call('SET', KEYS[1], cjson.encode(snap), 'EX', ARGV[3])
if ev.log then
  local line = { at = ev.at, level = ev.log.level, message = ev.log.message, attempt = ev.attempt, worker = ev.workerId }
  redis.call('RPUSH', KEYS[6], cjson.encode(line))
  redis.call('LTRIM', KEYS[6], -tonumber(ARGV[4]), -1)
  redis.call('EXPIRE', KEYS[6], ARGV[3])
end
local out = cjson.encode(msg)
redis.call('RPUSH', KEYS[2], out)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', KEYS[3], out)
return out
`;

/**
 * Puts a failed generation back to queued for a replay: the terminal claim and cancel flag go,
 * the snapshot returns to queued, and a `queued` status message is logged and published with the
 * next `seq`, so live clients see the replay start. Its Kafka position goes too: the replay's
 * record may land on another partition (request records are placed round robin), and
 * APPLY_REQUEST records that record's position, the one its queue entry is under. The replay's
 * attempt is chosen here: the one asked for, or one above the last replay's when that is higher
 * (a run counts its tries from 1, so every failure of one generation may report the same number).
 * The attempt floor is raised to it, so no earlier record of the generation, if redelivered, runs
 * beside it (`redisKeys().attemptFloor`). Past the request event's bound (100) there is no higher
 * attempt to give, so nothing is reset.
 * KEYS: snapshot, log, channel, terminal, cancel, attempt floor.
 * ARGV: at (ISO time), ttl, log max, the attempt asked for. Returns the replay's attempt, nil
 * when the generation is not failed, or -1 (nothing written) when it has had its last replay.
 */
export const RESET_FOR_REPLAY = `
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local snap = cjson.decode(raw)
if snap.status ~= 'failed' then return nil end
local attempt = math.max(tonumber(ARGV[4]), (tonumber(redis.call('GET', KEYS[6])) or 0) + 1)
if attempt > 100 then return -1 end
snap.status = 'queued'
snap.stage = 'queued'
snap.progress = 0
snap.error = nil
snap.completedAt = nil
snap.partition = nil
snap.offset = nil
snap.seq = (snap.seq or 0) + 1
redis.call('SET', KEYS[1], cjson.encode(snap), 'EX', ARGV[2])
redis.call('DEL', KEYS[4], KEYS[5])
redis.call('SET', KEYS[6], attempt, 'EX', ARGV[2])
local msg = cjson.encode({ type = 'status', id = snap.id, seq = snap.seq, status = 'queued', progress = 0, stage = 'queued', at = ARGV[1] })
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('PUBLISH', KEYS[3], msg)
return attempt
`;

/**
 * Takes a live-connection slot for a user and a client address at once, or neither: expired
 * leases (an instance that died without releasing) are dropped first, then both counts are
 * checked and both leases written in one step, so parallel upgrades on any number of instances
 * cannot pass a cap. Time is Redis's, so instances' clocks do not matter.
 * KEYS: user leases, address leases. ARGV: lease id, lease ms, user cap, address cap.
 * Returns 0 when taken, 1 when the user is at the cap, 2 when the address is.
 */
export const ACQUIRE_LIVE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 2 end
local expires = now + tonumber(ARGV[2])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], expires, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return 0
`;

/** Extends a held lease (written again if it had lapsed). KEYS: user leases, address leases. ARGV: lease id, lease ms. */
export const RENEW_LIVE_SLOT = `
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], expires, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return 1
`;

/**
 * A submission's one Redis step before it is produced: the backlog guard, the user's in-flight
 * cap and the early snapshot (APPLY_REQUEST), in one script so a submit makes one round trip
 * for all three, and a refusal writes nothing.
 * - Backlog: refused while the relay's last figure (KEYS[6], JSON `{ lag }`) is over ARGV[7]; no
 *   figure (reporter down, value expired) is no evidence of a backlog and admits.
 * - In-flight cap (queued and running together): lapsed leases are dropped first, then the count
 *   is checked and the generation added in one step, so parallel submits on any number of edges
 *   cannot pass the cap.
 * - The same submit again (its id already counted: the REST client resends a request whose
 *   answer was lost) is admitted again, never refused for the place it took itself; refused,
 *   its first run's snapshot and place would stay behind for a generation never produced.
 * KEYS: APPLY_REQUEST's four, the user's in-flight set, the backlog figure.
 * ARGV: APPLY_REQUEST's four, cap, lease ms, backlog max.
 * Returns -3 over the backlog, -2 at the in-flight cap, else APPLY_REQUEST's answer.
 */
export const SUBMIT_REQUEST = `
local again = redis.call('ZSCORE', KEYS[5], ARGV[2])
local figure = redis.call('GET', KEYS[6])
if figure and not again then
  local ok, backlog = pcall(cjson.decode, figure)
  if ok and type(backlog) == 'table' and type(backlog.lag) == 'number' and backlog.lag == math.floor(backlog.lag)
    and backlog.lag > tonumber(ARGV[7]) then return -3 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
if not again and redis.call('ZCARD', KEYS[5]) >= tonumber(ARGV[5]) then return -2 end
redis.call('ZADD', KEYS[5], now + tonumber(ARGV[6]), ARGV[2])
redis.call('PEXPIRE', KEYS[5], ARGV[6])
${APPLY_REQUEST}`;

/**
 * Creates or rotates a user's webhook signing secret. The one it replaces stays valid for
 * signing until ARGV[3] (Unix ms), so receivers can switch without dropping deliveries; "0"
 * revokes it (and any earlier one still in its grace) at once.
 * KEYS: the user's secret hash. ARGV: new secret, now (ISO time), previous valid until (Unix ms, or 0).
 * Returns 1 when a secret was rotated, 0 when the first one was created.
 */
export const ROTATE_WEBHOOK_SECRET = `
local current = redis.call('HGET', KEYS[1], 'current')
if ARGV[3] == '0' then
  redis.call('HDEL', KEYS[1], 'previous', 'previousUntil')
elseif current then
  redis.call('HSET', KEYS[1], 'previous', current, 'previousUntil', ARGV[3])
end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'createdAt', ARGV[2])
return current and 1 or 0
`;

/**
 * Deletes a generation from Redis in one step and leaves its tombstone, so nothing written about
 * it later (by a worker still running it, the relay, a redelivery) brings it back. Its queue
 * place and in-flight entry are found from the snapshot (only it knows the partition). The
 * tombstone is written last: the deletes free memory, and a Redis out of memory (which refuses a
 * script's first write that needs some) still lets them through.
 * Run by the purger (a deletion, the retention sweep) and by the edge for a submit answered 503
 * whose request may still reach Kafka.
 * KEYS: `redisKeys().purge(id, userId)`: tombstone, snapshot, event log, producer seq, cancel,
 * terminal, generation log, idempotency pointer, user index, webhooks due, webhook attempts,
 * webhook leases, attempt floor.
 * ARGV: id, tombstone ttl, key prefix. Returns the snapshot JSON it removed, or nil.
 */
export const PURGE_GENERATION = `
local raw = redis.call('GET', KEYS[2])
if raw then
  local ok, snap = pcall(cjson.decode, raw)
  if ok and type(snap) == 'table' then
    if type(snap.partition) == 'number' then redis.call('ZREM', ARGV[3] .. 'queue:' .. snap.partition, ARGV[1]) end
    if type(snap.userId) == 'string' then redis.call('ZREM', ARGV[3] .. 'user:' .. snap.userId .. ':inflight', ARGV[1]) end
  end
end
local idem = redis.call('GET', KEYS[8])
if idem then redis.call('DEL', idem) end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[13])
redis.call('ZREM', KEYS[9], ARGV[1])
redis.call('ZREM', KEYS[10], ARGV[1])
redis.call('HDEL', KEYS[11], ARGV[1])
redis.call('HDEL', KEYS[12], ARGV[1])
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
return raw
`;

/**
 * A lease held under a token (`SET key token NX PX ms` takes it): only its holder may extend or
 * drop it, so a holder that lost it (it lapsed while the holder stalled) cannot cut short the
 * lease of whoever took it next. KEYS: the lease. ARGV: token, ms. Returns 1 if extended.
 */
export const RENEW_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** Drops a lease its holder no longer needs (see RENEW_LEASE). KEYS: the lease. ARGV: token. Returns 1 if dropped. */
export const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
