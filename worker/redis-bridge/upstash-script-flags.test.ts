import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createScriptFlagTranslator, withoutUpstashFlags } from "./upstash-script-flags.ts";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const flagged = "#!lua flags=allow-key-locking\nreturn redis.call('GET', KEYS[1])";

describe("withoutUpstashFlags", () => {
  test("drops only Upstash's flags, keeping the rest of the shebang and every line", () => {
    expect(withoutUpstashFlags(flagged)).toBe("#!lua\nreturn redis.call('GET', KEYS[1])");
    expect(withoutUpstashFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
    expect(withoutUpstashFlags("#!lua name=x flags=allow-key-locking\nreturn 1")).toBe("#!lua name=x\nreturn 1");
  });

  test("leaves scripts without Upstash flags alone", () => {
    expect(withoutUpstashFlags("return 1")).toBeNull();
    expect(withoutUpstashFlags("#!lua\nreturn 1")).toBeNull();
    expect(withoutUpstashFlags("#!lua flags=no-writes\nreturn 1")).toBeNull();
    expect(withoutUpstashFlags("return 1 --#!lua flags=allow-key-locking")).toBeNull();
  });
});

describe("createScriptFlagTranslator", () => {
  test("EVALSHA and SCRIPT EXISTS of the client's SHA reach the rewritten script once Redis has seen it", () => {
    const scripts = createScriptFlagTranslator();
    const rewrittenSha = sha1(withoutUpstashFlags(flagged) as string);
    expect(scripts.prepare(["EVALSHA", sha1(flagged), "1", "k"]).command[1]).toBe(sha1(flagged));
    expect(scripts.prepare(["EVAL", flagged, "1", "k"]).command).toEqual([
      "EVAL",
      "#!lua\nreturn redis.call('GET', KEYS[1])",
      "1",
      "k",
    ]);
    expect(scripts.prepare(["EVALSHA", sha1(flagged), "1", "k"]).command).toEqual(["EVALSHA", rewrittenSha, "1", "k"]);
    expect(scripts.prepare(["SCRIPT", "exists", sha1(flagged), "f".repeat(40)]).command).toEqual([
      "SCRIPT",
      "exists",
      rewrittenSha,
      "f".repeat(40),
    ]);
  });

  test("SCRIPT LOAD answers the SHA1 of the script the client sent", () => {
    const prepared = createScriptFlagTranslator().prepare(["SCRIPT", "LOAD", flagged]);
    expect(prepared.command[2]).toBe(withoutUpstashFlags(flagged) as string);
    expect(prepared.reply?.(sha1(withoutUpstashFlags(flagged) as string))).toBe(sha1(flagged));
  });

  test("other commands pass unchanged", () => {
    const scripts = createScriptFlagTranslator();
    expect(scripts.prepare(["SET", "k", flagged])).toEqual({ command: ["SET", "k", flagged] });
    expect(scripts.prepare(["EVAL", "return 1", "0"])).toEqual({ command: ["EVAL", "return 1", "0"] });
  });
});
