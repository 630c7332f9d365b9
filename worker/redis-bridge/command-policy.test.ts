import { describe, expect, test } from "bun:test";
import { deniedReason } from "./command-policy.ts";

describe("deniedReason", () => {
  test("allows the data commands @upstash/redis and @upstash/ratelimit use, in any case", () => {
    for (const command of [
      ["GET", "k"],
      ["set", "k", "v"],
      ["HGETALL", "h"],
      ["ZADD", "z", "1", "m"],
      ["EVALSHA", "0", "0"],
      ["SCRIPT", "load", "return 1"],
      ["SCRIPT", "EXISTS", "0"],
      ["PUBLISH", "c", "m"],
      ["SCAN", "0"],
      ["MGET", "a", "b"],
    ]) {
      expect(deniedReason(command)).toBeNull();
    }
  });

  test("refuses administration, connection state and blocking commands", () => {
    for (const name of ["FLUSHALL", "FLUSHDB", "CONFIG", "SHUTDOWN", "DEBUG", "MONITOR", "SUBSCRIBE", "CLIENT"]) {
      expect(deniedReason([name])).toBe(`ERR command ${name} is not allowed`);
    }
    for (const name of ["MIGRATE", "REPLICAOF", "MODULE", "ACL", "SAVE", "KEYS", "MULTI", "SELECT", "BLPOP", "HELLO"]) {
      expect(deniedReason([name])).toBe(`ERR command ${name} is not allowed`);
    }
    expect(deniedReason(["flushall"])).toBe("ERR command FLUSHALL is not allowed");
  });

  test("SCRIPT allows only LOAD and EXISTS", () => {
    expect(deniedReason(["SCRIPT", "FLUSH"])).toBe("ERR command SCRIPT FLUSH is not allowed");
    expect(deniedReason(["SCRIPT", "KILL"])).toBe("ERR command SCRIPT KILL is not allowed");
    expect(deniedReason(["SCRIPT"])).toBe("ERR command SCRIPT is not allowed");
  });

  test("cuts an absurdly long name short in the message", () => {
    expect(deniedReason(["X".repeat(1000)])).toBe(`ERR command ${"X".repeat(64)} is not allowed`);
  });
});
