import { describe, expect, test } from "bun:test";
import { RedisReplyError } from "../redis/redis-client.ts";
import { encodeEntry, encodeResult, parseCommand, parseCommands } from "./rest-wire.ts";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("parseCommand", () => {
  test("upper-cases the name and turns numbers and booleans into Redis strings", () => {
    expect(parseCommand(["set", "k", 1.5, true, -3])).toEqual(["SET", "k", "1.5", "true", "-3"]);
  });

  test("says what is wrong with anything else", () => {
    for (const body of [null, {}, [], [1], [""], ["GET", null], ["GET", { a: 1 }], ["GET", ["x"]]]) {
      expect(typeof parseCommand(body)).toBe("string");
    }
  });
});

describe("parseCommands", () => {
  test("parses every command and names the first bad one", () => {
    expect(parseCommands([["PING"], ["get", "k"]])).toEqual([["PING"], ["GET", "k"]]);
    expect(parseCommands([["PING"], "PING"])).toEndWith("(command 2)");
    expect(typeof parseCommands([])).toBe("string");
  });
});

describe("encodeResult", () => {
  test("base64-encodes every string but OK, at any depth, and keeps numbers and nulls", () => {
    const reply = ["héllo ✓", 3, null, ["OK", "nested"], new RedisReplyError("WRONGTYPE x")];
    expect(encodeResult(reply, true)).toEqual([b64("héllo ✓"), 3, null, ["OK", b64("nested")], b64("WRONGTYPE x")]);
    expect(encodeResult("OK", true)).toBe("OK");
    expect(encodeResult(reply, false)).toEqual(["héllo ✓", 3, null, ["OK", "nested"], "WRONGTYPE x"]);
  });
});

describe("encodeEntry", () => {
  test("an error reply is an error entry in plain text; anything else is a result", () => {
    expect(encodeEntry(new RedisReplyError("WRONGTYPE x"), true)).toEqual({ error: "WRONGTYPE x" });
    expect(encodeEntry("v", true)).toEqual({ result: b64("v") });
  });
});
