import { describe, expect, test } from "bun:test";
import { APPLY_REQUEST } from "../../shared/redis-scripts.ts";
import { deniedReason } from "./command-policy.ts";

const sha1 = (text: string) => new Bun.CryptoHasher("sha1").update(text).digest("hex");

describe("deniedReason", () => {
  test("allows the data commands the edge and @upstash/ratelimit use, in any case", () => {
    for (const command of [
      ["GET", "k"],
      ["set", "k", "v"],
      ["HGETALL", "h"],
      ["ZADD", "z", "1", "m"],
      ["zrange", "z", "+", "-", "BYLEX", "REV"],
      ["MGET", "a", "b"],
      ["DEL", "a"],
      ["PING"],
    ]) {
      expect(deniedReason(command)).toBeNull();
    }
  });

  test("refuses administration, connection state, blocking, and commands reaching past one key's value", () => {
    for (const name of ["FLUSHALL", "FLUSHDB", "CONFIG", "SHUTDOWN", "DEBUG", "MONITOR", "SUBSCRIBE", "CLIENT"]) {
      expect(deniedReason([name])).toBe(`ERR command ${name} is not allowed`);
    }
    for (const name of ["MIGRATE", "REPLICAOF", "MODULE", "ACL", "SAVE", "KEYS", "MULTI", "SELECT", "BLPOP", "HELLO"]) {
      expect(deniedReason([name])).toBe(`ERR command ${name} is not allowed`);
    }
    for (const name of ["SCAN", "RANDOMKEY", "DBSIZE", "RENAME", "RENAMENX", "COPY", "MOVE", "PUBLISH", "SORT"]) {
      expect(deniedReason([name])).toBe(`ERR command ${name} is not allowed`);
    }
    expect(deniedReason(["flushall"])).toBe("ERR command FLUSHALL is not allowed");
  });

  test("Lua runs only the edge's scripts, by text or by SHA1; SCRIPT allows only LOAD (of those) and EXISTS", () => {
    expect(deniedReason(["EVAL", APPLY_REQUEST, "0"])).toBeNull();
    expect(deniedReason(["EVALSHA", sha1(APPLY_REQUEST).toUpperCase(), "0"])).toBeNull();
    expect(deniedReason(["SCRIPT", "LOAD", APPLY_REQUEST])).toBeNull();
    // @upstash/ratelimit's sliding window, as the edge's limiter calls it.
    expect(deniedReason(["EVALSHA", "74740bb3d7792848093cdef586b6b6037c455fd6", "2"])).toBeNull();
    const other = "return redis.call('SCAN', '0')";
    expect(deniedReason(["EVAL", other, "0"])).toBe(`ERR script ${sha1(other)} is not allowed`);
    expect(deniedReason(["EVAL_RO", other, "0"])).toBe(`ERR script ${sha1(other)} is not allowed`);
    expect(deniedReason(["EVALSHA", sha1(other), "0"])).toBe(`ERR script ${sha1(other)} is not allowed`);
    expect(deniedReason(["SCRIPT", "LOAD", other])).toBe(`ERR script ${sha1(other)} is not allowed`);
    expect(deniedReason(["SCRIPT", "EXISTS", sha1(other)])).toBeNull();
    expect(deniedReason(["SCRIPT", "FLUSH"])).toBe("ERR command SCRIPT FLUSH is not allowed");
    expect(deniedReason(["SCRIPT", "KILL"])).toBe("ERR command SCRIPT KILL is not allowed");
    expect(deniedReason(["SCRIPT"])).toBe("ERR command SCRIPT is not allowed");
  });

  test("cuts an absurdly long name short in the message", () => {
    expect(deniedReason(["X".repeat(1000)])).toBe(`ERR command ${"X".repeat(64)} is not allowed`);
  });
});
