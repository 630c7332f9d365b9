/**
 * Least privilege of the Redis REST bridge, on the real Redis: what a holder of the bridge's
 * token can do through it, and what the bridge's own Redis user could do if the bridge were
 * taken over (its ACL: the project's key prefix, no channels, only the commands it needs).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { APPLY_REQUEST } from "../../shared/redis-scripts.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { rejectionOf, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { startTestBridge, type TestBridge } from "./bridge-test-server.ts";
import { bridgeUserRules, ensureBridgeUser } from "./bridge-user.ts";

let bridge: TestBridge;
/** A connection as the bridge's ACL user itself, bypassing the bridge's own checks. */
let asBridgeUser: Redis;
const foreign = `foreign-${crypto.randomUUID().slice(0, 8)}:`;
let k: (name: string) => string;

beforeAll(async () => {
  bridge = await startTestBridge();
  asBridgeUser = await createRedis(bridge.user.url);
  k = (name) => `${bridge.prefix}${name}`;
  await bridge.redis.send("SET", [`${foreign}secret`, "not yours", "EX", "600"]);
});
afterAll(async () => {
  asBridgeUser.close();
  await bridge.redis.send("DEL", [`${foreign}secret`, `${foreign}written`]);
  await bridge.stop();
});

async function post(body: unknown) {
  const res = await fetch(`${bridge.url}/`, {
    method: "POST",
    headers: { authorization: `Bearer ${bridge.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { result?: unknown; error?: string } };
}

describe("through the bridge, with its token", () => {
  test("keys under the prefix work; any other key is refused by Redis, for reads and writes", async () => {
    expect(await post(["SET", k("mine"), "v"])).toEqual({ status: 200, body: { result: "OK" } });
    expect(await post(["GET", k("mine")])).toEqual({ status: 200, body: { result: "v" } });
    for (const command of [
      ["GET", `${foreign}secret`],
      ["SET", `${foreign}written`, "x"],
      ["MSET", k("a"), "1", `${foreign}written`, "x"],
      ["ZUNIONSTORE", k("z"), "1", `${foreign}secret`],
      ["DEL", `${foreign}secret`],
    ]) {
      const res = await post(command);
      expect(res.status).toBe(400);
      expect(res.body.error).toStartWith("NOPERM");
    }
    expect(await bridge.redis.send("GET", [`${foreign}secret`])).toBe("not yours");
    expect(await bridge.redis.send("EXISTS", [`${foreign}written`, k("a")])).toBe(0);
  });

  test("PUBLISH, SCAN, RANDOMKEY, RENAME, COPY, KEYS and any script but the edge's are refused (403)", async () => {
    for (const command of [
      ["PUBLISH", `${bridge.prefix}events:x`, "{}"],
      ["PUBLISH", "elsewhere", "{}"],
      ["SCAN", "0"],
      ["RANDOMKEY"],
      ["RENAME", k("mine"), k("moved")],
      ["COPY", k("mine"), k("copy")],
      ["KEYS", "*"],
      ["DBSIZE"],
      ["EVAL", "return redis.call('GET', KEYS[1])", "1", k("mine")],
      ["SCRIPT", "LOAD", "return 1"],
    ]) {
      const res = await post(command);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatch(/^ERR (command|script) .* is not allowed$/);
    }
  });

  test("even the edge's own script cannot touch a key outside the prefix", async () => {
    const res = await post([
      "EVAL",
      APPLY_REQUEST,
      "4",
      `${foreign}gen`,
      k("user:u:gens"),
      k("queue:0"),
      k("deleted:g"),
      JSON.stringify({ id: "g", params: {} }),
      "g",
      "0",
      "60",
    ]);
    expect(res.status).toBe(400);
    // Declared keys are checked before the script runs.
    expect(res.body.error).toStartWith("NOPERM");
    expect(await bridge.redis.send("EXISTS", [`${foreign}gen`])).toBe(0);
  });
});

describe("as the bridge's Redis user, without the bridge (its ACL)", () => {
  test("scripts cannot reach other keys or other commands", async () => {
    const readForeign = await rejectionOf(
      asBridgeUser.send("EVAL", [`return redis.call('GET', '${foreign}secret')`, "0"]),
    );
    expect(readForeign.message).toContain("can't access at least one of the keys");
    const scan = await rejectionOf(asBridgeUser.send("EVAL", ["return redis.call('SCAN', '0')", "0"]));
    expect(scan.message).toContain("can't run this command");
    const declared = await rejectionOf(asBridgeUser.send("EVAL", ["return 1", "1", `${foreign}secret`]));
    expect(declared.message).toStartWith("NOPERM");
  });

  test("no channel, no keyspace-wide or key-moving command, no administration", async () => {
    for (const [command, args] of [
      ["PUBLISH", [`${bridge.prefix}events:x`, "{}"]],
      ["PUBLISH", ["elsewhere", "{}"]],
      ["SUBSCRIBE", [`${bridge.prefix}events:x`]],
      ["SCAN", ["0"]],
      ["RANDOMKEY", []],
      ["RENAME", [k("mine"), k("moved")]],
      ["COPY", [k("mine"), k("copy")]],
      ["KEYS", ["*"]],
      ["FLUSHALL", []],
      ["CONFIG", ["GET", "*"]],
      ["ACL", ["LIST"]],
      ["SCRIPT", ["FLUSH"]],
    ] as const) {
      const error = await rejectionOf(asBridgeUser.send(command, [...args]));
      expect(error.message, command).toStartWith("NOPERM");
    }
    expect(await asBridgeUser.send("GET", [k("mine")])).toBe("v");
  });
});

describe("setting the user up", () => {
  test("is idempotent and undoes drift: a hand-widened user is reset to the rules", async () => {
    const admin = await createRedis(TEST_REDIS_URL);
    try {
      const rules = { username: bridge.user.username, password: bridge.user.password, prefix: bridge.prefix };
      const before = await admin.send("ACL", ["GETUSER", bridge.user.username]);
      await admin.send("ACL", ["SETUSER", bridge.user.username, "+@all", "allkeys", "allchannels"]);
      expect(await asBridgeUser.send("DBSIZE", [])).toBeGreaterThan(0);
      await ensureBridgeUser(admin, rules);
      await ensureBridgeUser(admin, rules);
      expect(await admin.send("ACL", ["GETUSER", bridge.user.username])).toEqual(before);
      expect((await rejectionOf(asBridgeUser.send("DBSIZE", []))).message).toStartWith("NOPERM");
    } finally {
      admin.close();
    }
  });

  test("glob characters in the prefix are taken literally", () => {
    expect(bridgeUserRules({ password: "p".repeat(16), prefix: "ps*[x]?:" })).toContain("~ps\\*\\[x\\]\\?:*");
  });
});
