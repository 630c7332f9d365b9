/**
 * Which commands the REST bridge forwards: what @upstash/redis and @upstash/ratelimit need for
 * data, and nothing that administers the server, changes connection state (MULTI, SELECT,
 * SUBSCRIBE, HELLO) or blocks (BLPOP…): every request shares one auto-pipelined connection, and
 * one of those would stall or corrupt it for all callers.
 *
 * Lua is allowed, and a script can call any command: the token is for trusted callers (the
 * edge); this list keeps honest clients from taking the server down, it is not a sandbox.
 */
const COMMANDS = [
  // strings and counters
  "APPEND DECR DECRBY GET GETDEL GETEX GETRANGE GETSET INCR INCRBY INCRBYFLOAT LCS MGET MSET MSETNX",
  "PSETEX SET SETEX SETNX SETRANGE STRLEN",
  // bitmaps and HyperLogLog
  "BITCOUNT BITFIELD BITFIELD_RO BITOP BITPOS GETBIT SETBIT PFADD PFCOUNT PFMERGE",
  // keys and TTL
  "COPY DEL EXISTS EXPIRE EXPIREAT EXPIRETIME PERSIST PEXPIRE PEXPIREAT PEXPIRETIME PTTL RANDOMKEY",
  "RENAME RENAMENX SCAN TOUCH TTL TYPE UNLINK",
  // hashes (field TTLs exist from Redis 7.4; older servers answer "unknown command")
  "HDEL HEXISTS HGET HGETALL HGETDEL HGETEX HINCRBY HINCRBYFLOAT HKEYS HLEN HMGET HMSET HRANDFIELD",
  "HSCAN HSET HSETEX HSETNX HSTRLEN HVALS HEXPIRE HEXPIREAT HEXPIRETIME HPERSIST HPEXPIRE HPEXPIREAT",
  "HPEXPIRETIME HPTTL HTTL",
  // lists
  "LINDEX LINSERT LLEN LMOVE LMPOP LPOP LPOS LPUSH LPUSHX LRANGE LREM LSET LTRIM RPOP RPOPLPUSH RPUSH RPUSHX",
  // sets
  "SADD SCARD SDIFF SDIFFSTORE SINTER SINTERCARD SINTERSTORE SISMEMBER SMEMBERS SMISMEMBER SMOVE SPOP",
  "SRANDMEMBER SREM SSCAN SUNION SUNIONSTORE",
  // sorted sets
  "ZADD ZCARD ZCOUNT ZDIFF ZDIFFSTORE ZINCRBY ZINTER ZINTERCARD ZINTERSTORE ZLEXCOUNT ZMPOP ZMSCORE",
  "ZPOPMAX ZPOPMIN ZRANDMEMBER ZRANGE ZRANGEBYLEX ZRANGEBYSCORE ZRANGESTORE ZRANK ZREM ZREMRANGEBYLEX",
  "ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREVRANGE ZREVRANGEBYLEX ZREVRANGEBYSCORE ZREVRANK ZSCAN ZSCORE",
  "ZUNION ZUNIONSTORE",
  // geo and streams (no blocking reads)
  "GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEOSEARCHSTORE XADD XDEL XLEN XRANGE XREVRANGE XTRIM",
  // scripting, pub/sub, connection, server
  "EVAL EVALSHA EVAL_RO EVALSHA_RO PUBLISH PING ECHO DBSIZE TIME",
];

const ALLOWED = new Set(COMMANDS.join(" ").split(" "));
const ALLOWED_SUBCOMMANDS: Record<string, ReadonlySet<string>> = { SCRIPT: new Set(["LOAD", "EXISTS"]) };

/** Redis-style error text when `command` may not run through the bridge, else null. */
export function deniedReason(command: readonly string[]): string | null {
  // Echoed back in the error, so an absurd name is cut short.
  const name = (command[0] ?? "").toUpperCase().slice(0, 64);
  if (ALLOWED.has(name)) return null;
  const subcommands = ALLOWED_SUBCOMMANDS[name];
  if (subcommands) {
    const sub = (command[1] ?? "").toUpperCase().slice(0, 64);
    return subcommands.has(sub) ? null : `ERR command ${name}${sub ? ` ${sub}` : ""} is not allowed`;
  }
  return `ERR command ${name} is not allowed`;
}
