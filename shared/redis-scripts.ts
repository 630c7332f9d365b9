/**
 * Writes of generation state to Redis, as Lua so each is atomic: a status event is applied only
 * if it is newer than what the snapshot holds (`kseq`), and the snapshot, the replay log and
 * the live publish then move together; a terminal event of a generation with a webhook queues
 * its delivery in the same step, so it is queued exactly once. `seq` on the client side counts applied events, so it
 * has no gaps even when a crashed worker reserved a producer sequence it never used.
 */

/**
 * KEYS: snapshot, user index, queue of the request's partition. ARGV: snapshot JSON, id, offset,
 * ttl. The edge runs it before producing (no partition or offset yet: the snapshot is recorded,
 * the queue is left alone) and again after; the relay runs it for every request event. Whatever
 * came first, the snapshot ends up with the params and the Kafka position, written once each.
 */
export const APPLY_REQUEST = `
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
    snap.webhookUrl = incoming.webhookUrl
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
 * KEYS: snapshot, event log, channel, webhooks due. ARGV: status event JSON, key prefix (for the
 * partition's queue, known only from the snapshot), ttl, log max.
 * Returns the client message JSON, or nil when the event is stale, a duplicate or after the end.
 */
export const APPLY_STATUS = `
local ev = cjson.decode(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local snap
if raw then
  snap = cjson.decode(raw)
else
  snap = { id = ev.id, userId = ev.userId, seq = 0, kseq = 0, attempts = 0 }
end
if ev.seq <= (snap.kseq or 0) then return nil end
if snap.status == 'completed' or snap.status == 'failed' or snap.status == 'canceled' then return nil end
snap.kseq = ev.seq
snap.seq = (snap.seq or 0) + 1
snap.status = ev.status
snap.progress = ev.progress
snap.stage = ev.stage
snap.attempts = ev.attempt
if ev.status == 'processing' and snap.startedAt == nil then snap.startedAt = ev.at end
local msg
if ev.status == 'completed' then
  local img = ev.image
  snap.image = { url = img.url, width = img.width, height = img.height, format = img.format, bytes = img.bytes }
  snap.completedAt = ev.at
  msg = { type = 'completed', id = ev.id, seq = snap.seq, image = snap.image, timings = ev.timings }
elseif ev.status == 'failed' then
  snap.error = ev.error
  snap.completedAt = ev.at
  msg = { type = 'failed', id = ev.id, seq = snap.seq, error = ev.error, attempts = ev.attempt }
elseif ev.status == 'canceled' then
  snap.completedAt = ev.at
  msg = { type = 'canceled', id = ev.id, seq = snap.seq }
else
  msg = { type = 'status', id = ev.id, seq = snap.seq, status = ev.status, progress = ev.progress, stage = ev.stage, at = ev.at }
end
if snap.partition ~= nil then
  local queue = ARGV[2] .. 'queue:' .. snap.partition
  if ev.status == 'queued' then
    redis.call('ZADD', queue, snap.offset, ev.id)
  else
    redis.call('ZREM', queue, ev.id)
  end
end
redis.call('SET', KEYS[1], cjson.encode(snap), 'EX', ARGV[3])
if snap.webhookUrl ~= nil and msg.type ~= 'status' then
  local now = redis.call('TIME')
  redis.call('ZADD', KEYS[4], now[1] * 1000 + math.floor(now[2] / 1000), ev.id)
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
 * next `seq`, so live clients see the replay start. KEYS: snapshot, log, channel, terminal, cancel.
 * ARGV: at (ISO time), ttl, log max. Returns the message, or nil when the generation is not failed.
 */
export const RESET_FOR_REPLAY = `
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local snap = cjson.decode(raw)
if snap.status ~= 'failed' then return nil end
snap.status = 'queued'
snap.stage = 'queued'
snap.progress = 0
snap.error = nil
snap.completedAt = nil
snap.seq = (snap.seq or 0) + 1
redis.call('SET', KEYS[1], cjson.encode(snap), 'EX', ARGV[2])
redis.call('DEL', KEYS[4], KEYS[5])
local msg = cjson.encode({ type = 'status', id = snap.id, seq = snap.seq, status = 'queued', progress = 0, stage = 'queued', at = ARGV[1] })
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('PUBLISH', KEYS[3], msg)
return msg
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
 * Creates or rotates a user's webhook signing secret. The one it replaces stays valid for
 * signing until ARGV[3] (Unix ms), so receivers can switch without dropping deliveries.
 * KEYS: the user's secret hash. ARGV: new secret, now (ISO time), previous valid until (Unix ms).
 * Returns 1 when a secret was rotated, 0 when the first one was created.
 */
export const ROTATE_WEBHOOK_SECRET = `
local current = redis.call('HGET', KEYS[1], 'current')
if current then
  redis.call('HSET', KEYS[1], 'previous', current, 'previousUntil', ARGV[3])
end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'createdAt', ARGV[2])
return current and 1 or 0
`;
