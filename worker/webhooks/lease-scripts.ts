/**
 * Delivery leases, as Lua so each step is atomic. A due delivery is never removed to be
 * claimed: claiming moves its due time one lease ahead and records who holds it, so if the
 * holder dies mid-delivery the lease runs out, the delivery is due again and another
 * dispatcher sends it (at least once, with the same webhook-id). Only the holder settles it.
 * Times come from Redis (TIME), the same clock the relay queues deliveries with.
 */

/**
 * KEYS: due set, leases, attempts. ARGV: lease ms, max count, token.
 * Returns [next, size, id, attempt, id, attempt, …]: `next` is the ms until the earliest member
 * left is due (0 when more are due than were claimed, -1 when the set is empty), `size` the
 * members left (due and leased alike: what is still to be delivered).
 */
export const CLAIM_DUE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = { -1, 0 }
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), id)
  redis.call('HSET', KEYS[2], id, ARGV[3])
  out[#out + 1] = id
  out[#out + 1] = redis.call('HINCRBY', KEYS[3], id, 1)
end
-- Measured on this clock after claiming, so the dispatcher can sleep until then instead of
-- polling: the earliest is a queued delivery, a retry or defer SETTLE put back, or a lease
-- (this claim's included) that runs out if its holder dies.
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then out[1] = math.max(0, tonumber(first[2]) - now) end
out[2] = redis.call('ZCARD', KEYS[1])
return out
`;

/**
 * KEYS: due set, leases, attempts, the generation's snapshot. ARGV: id, token, "done", "retry" or
 * "defer" (not attempted: the owner's share of the dispatcher was busy), retry delay ms, the
 * snapshot `seq` the delivery sent ("" when it sent none), least ms between
 * two progress deliveries.
 * A delivery is queued once per generation (the relay's Lua keeps one pending delivery that
 * carries the latest state), so an event the webhook asked for while this one was in flight
 * (`webhookQueuedSeq` past the seq sent) makes "done" queue the next delivery instead of ending:
 * a terminal event arriving during a progress delivery is never dropped.
 * Returns 1 when settled, 0 when the lease was no longer this holder's (it ran out and another took it).
 */
export const SETTLE = `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if ARGV[3] == 'retry' or ARGV[3] == 'defer' then
  -- A deferred delivery was never attempted: its claim does not count as an attempt.
  if ARGV[3] == 'defer' then redis.call('HINCRBY', KEYS[3], ARGV[1], -1) end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
  return 1
end
redis.call('HDEL', KEYS[3], ARGV[1])
local raw = ARGV[5] ~= '' and redis.call('GET', KEYS[4])
local ok, snap = pcall(cjson.decode, raw or 'null')
if ok and type(snap) == 'table' and (snap.webhookQueuedSeq or 0) > tonumber(ARGV[5]) then
  local ended = { completed = true, failed = true, canceled = true, expired = true }
  local delay = ended[snap.status or ''] and 0 or tonumber(ARGV[6])
  redis.call('ZADD', KEYS[1], now + delay, ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
`;
