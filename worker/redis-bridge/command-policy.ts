/**
 * Which commands the REST bridge forwards: data commands on keys (strings, hashes, lists, sets,
 * sorted sets, expiry) and the edge's own Lua scripts, nothing more. Refused: administration,
 * connection state (MULTI, SELECT, SUBSCRIBE, HELLO) and blocking commands, which would stall or
 * corrupt the one auto-pipelined connection all requests share; commands that reach beyond one
 * key's value (SCAN, KEYS, RANDOMKEY, DBSIZE, RENAME, COPY, PUBLISH); and any Lua but the
 * scripts the edge runs (edge-scripts.ts), since a script may call anything.
 *
 * The same list is the bridge's Redis ACL (bridge-user.ts), which also confines every key,
 * inside scripts too, to the project's prefix: the token opens this much and no more.
 */
import { createHash } from "node:crypto";
import { isEdgeScript } from "./edge-scripts.ts";

const COMMANDS = [
  // strings and counters
  "APPEND DECR DECRBY GET GETDEL GETEX GETRANGE GETSET INCR INCRBY INCRBYFLOAT MGET MSET MSETNX",
  "PSETEX SET SETEX SETNX SETRANGE STRLEN",
  // keys and TTL
  "DEL EXISTS EXPIRE EXPIREAT EXPIRETIME PERSIST PEXPIRE PEXPIREAT PEXPIRETIME PTTL TOUCH TTL TYPE UNLINK",
  // hashes
  "HDEL HEXISTS HGET HGETALL HINCRBY HINCRBYFLOAT HKEYS HLEN HMGET HMSET HRANDFIELD HSCAN HSET HSETNX HSTRLEN HVALS",
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
  // scripting (the edge's scripts only, see below), connection, server
  "EVAL EVALSHA EVAL_RO EVALSHA_RO PING ECHO TIME",
];
/** Commands a REST client may send. */
export const REST_COMMANDS: readonly string[] = COMMANDS.join(" ").split(" ");
const ALLOWED = new Set(REST_COMMANDS);
/** Subcommands allowed where the command itself is not: "SCRIPT LOAD" of an edge script, "SCRIPT EXISTS". */
export const REST_SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = { SCRIPT: ["LOAD", "EXISTS"] };

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** The SHA1 a script command runs (of its text, as the client sent it), or null for other commands. */
function scriptOf(name: string, command: readonly string[]): string | null {
  if (name === "EVAL" || name === "EVAL_RO") return sha1(command[1] ?? "");
  if (name === "EVALSHA" || name === "EVALSHA_RO") return (command[1] ?? "").toLowerCase();
  if (name === "SCRIPT" && (command[1] ?? "").toUpperCase() === "LOAD") return sha1(command[2] ?? "");
  return null;
}

/** Redis-style error text when `command` may not run through the bridge, else null. */
export function deniedReason(command: readonly string[]): string | null {
  // Echoed back in the error, so an absurd name is cut short.
  const name = (command[0] ?? "").toUpperCase().slice(0, 64);
  const subcommands = REST_SUBCOMMANDS[name];
  if (!ALLOWED.has(name) && !subcommands) return `ERR command ${name} is not allowed`;
  if (subcommands) {
    const sub = (command[1] ?? "").toUpperCase().slice(0, 64);
    if (!subcommands.includes(sub)) return `ERR command ${name}${sub ? ` ${sub}` : ""} is not allowed`;
  }
  const script = scriptOf(name, command);
  if (script !== null && !isEdgeScript(script)) return `ERR script ${script.slice(0, 40)} is not allowed`;
  return null;
}
