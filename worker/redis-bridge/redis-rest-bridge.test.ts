/** The bridge's HTTP contract, spoken raw: auth, body rules, status codes and encodings. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "../../shared/logger.ts";
import { APPLY_REQUEST } from "../../shared/redis-scripts.ts";
import { createRedis } from "../redis/redis-client.ts";
import { deadRedisUrl, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { startTestBridge, type TestBridge } from "./bridge-test-server.ts";
import { createRedisRestBridge } from "./redis-rest-bridge.ts";

let bridge: TestBridge;
let k: (name: string) => string;

beforeAll(async () => {
  bridge = await startTestBridge();
  k = (name) => `${bridge.prefix}${name}`;
});

afterAll(async () => {
  await bridge.stop();
});

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

type Entry = { result?: unknown; error?: string };
type Reply = Entry & { [index: number]: Entry };

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${bridge.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${bridge.token}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof ReadableStream ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Reply };
}

describe("auth and request rules", () => {
  test("GET / answers health without a token", async () => {
    const res = await fetch(`${bridge.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("OK");
  });

  test("a missing, malformed or wrong token is 401", async () => {
    for (const authorization of [undefined, `Basic ${bridge.token}`, "Bearer nope", `Bearer ${bridge.token}x`]) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (authorization) headers.authorization = authorization;
      const res = await fetch(`${bridge.url}/`, { method: "POST", headers, body: '["PING"]' });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "Unauthorized" });
    }
  });

  test("bodies that are not a JSON command are 400", async () => {
    expect((await post("/", '["PING"]', { "content-type": "text/plain" })).status).toBe(400);
    for (const body of ["{not json", "{}", "[]", "[1]", '["GET", {"a": 1}]', '["GET", null]']) {
      const res = await post("/", body);
      expect(res.status).toBe(400);
      expect(typeof res.body.error).toBe("string");
    }
    expect((await post("/pipeline", [["PING"], "PING"])).status).toBe(400);
    expect((await post("/multi-exec", [])).status).toBe(400);
  });

  test("a body over the limit is 413, with or without Content-Length", async () => {
    const big = JSON.stringify(["SET", k("big"), "x".repeat(1024 * 1024)]);
    expect((await post("/", big)).status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 4; i++)
          controller.enqueue(new TextEncoder().encode(big.slice(i * 300_000, (i + 1) * 300_000)));
        controller.close();
      },
    });
    expect((await post("/", stream)).status).toBe(413);
    expect(await bridge.redis.send("EXISTS", [k("big")])).toBe(0);
  });

  test("unknown paths are 404", async () => {
    expect((await post("/set/a/b", [])).status).toBe(404);
  });
});

describe("commands and replies", () => {
  test("results are JSON; with Upstash-Encoding: base64 every string but OK is base64", async () => {
    const base64 = { "upstash-encoding": "base64" };
    expect(await post("/", ["SET", k("e"), "héllo ✓"], base64)).toEqual({ status: 200, body: { result: "OK" } });
    expect((await post("/", ["GET", k("e")], base64)).body).toEqual({ result: b64("héllo ✓") });
    expect((await post("/", ["GET", k("e")])).body).toEqual({ result: "héllo ✓" });
    expect((await post("/", ["PING"], base64)).body).toEqual({ result: b64("PONG") });
    expect((await post("/", ["INCRBY", k("i"), 7], base64)).body).toEqual({ result: 7 });
    expect((await post("/", ["GET", k("none")], base64)).body).toEqual({ result: null });
    await post("/", ["RPUSH", k("nested"), "a", "b"]);
    const nested = await post("/", ["LMPOP", 1, k("nested"), "LEFT", "COUNT", 2], base64);
    expect(nested.body).toEqual({ result: [b64(k("nested")), [b64("a"), b64("b")]] });
  });

  test("a Redis error is 400 with Redis's message", async () => {
    await post("/", ["SET", k("str"), "x"]);
    const res = await post("/", ["HGET", k("str"), "f"]);
    expect(res.status).toBe(400);
    expect(res.body.error).toStartWith("WRONGTYPE");
  });

  test("denied commands are 403; SCRIPT allows only LOAD (of the edge's scripts) and EXISTS", async () => {
    expect(await post("/", ["flushall"])).toEqual({
      status: 403,
      body: { error: "ERR command FLUSHALL is not allowed" },
    });
    expect((await post("/", ["SCRIPT", "FLUSH"])).body).toEqual({ error: "ERR command SCRIPT FLUSH is not allowed" });
    expect((await post("/", ["SUBSCRIBE", "x"])).status).toBe(403);
    expect((await post("/", ["MULTI"])).status).toBe(403);
    expect((await post("/", ["SCRIPT", "LOAD", "return 1"])).status).toBe(403);
    expect((await post("/", ["SCRIPT", "LOAD", APPLY_REQUEST])).status).toBe(200);
  });

  test("a pipeline answers one entry per command, a denied one included", async () => {
    await post("/", ["SET", k("pstr"), "x"]);
    const res = await post("/pipeline", [
      ["SET", k("p"), "1"],
      ["HGET", k("pstr"), "f"],
      ["CONFIG", "GET", "*"],
      ["INCR", k("p")],
    ]);
    expect(res.status).toBe(200);
    expect(res.body[0]).toEqual({ result: "OK" });
    expect(res.body[1]?.error).toStartWith("WRONGTYPE");
    expect(res.body[2]).toEqual({ error: "ERR command CONFIG is not allowed" });
    expect(res.body[3]).toEqual({ result: 2 });
  });

  test("a transaction Redis refuses to queue is discarded whole", async () => {
    const res = await post("/multi-exec", [["SET", k("t-none"), "written"], ["GET"]]);
    expect(res.status).toBe(400);
    expect(res.body.error).toStartWith("EXECABORT");
    expect(res.body.error).toContain("wrong number of arguments");
    expect(await bridge.redis.send("EXISTS", [k("t-none")])).toBe(0);
  });

  test("a transaction with a denied command is 403 and runs nothing", async () => {
    const res = await post("/multi-exec", [
      ["SET", k("t-denied"), "x"],
      ["DEBUG", "SLEEP", "0"],
    ]);
    expect(res).toEqual({ status: 403, body: { error: "ERR command DEBUG is not allowed" } });
    expect(await bridge.redis.send("EXISTS", [k("t-denied")])).toBe(0);
  });

  test("transactions wait for a pooled connection when all are busy", async () => {
    const small = await startTestBridge({ maxTransactionConnections: 1 });
    try {
      const key = `${small.prefix}q`;
      const responses = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${small.url}/multi-exec`, {
            method: "POST",
            headers: { authorization: `Bearer ${small.token}`, "content-type": "application/json" },
            body: JSON.stringify([
              ["INCR", key],
              ["INCR", key],
            ]),
          }).then((r) => r.json() as Promise<{ result: number }[]>),
        ),
      );
      const firsts = responses.map((r) => r[0]?.result as number).sort((a, b) => a - b);
      expect(firsts).toEqual(Array.from({ length: 12 }, (_, i) => 1 + 2 * i));
    } finally {
      await small.stop();
    }
  });
});

describe("when Redis is unreachable", () => {
  test("commands, transactions and health answer 503", async () => {
    const redis = await createRedis(TEST_REDIS_URL);
    redis.close();
    const deadUrl = deadRedisUrl();
    const logs: string[] = [];
    const down = createRedisRestBridge({
      redis,
      openTransactionConnection: () => createRedis(deadUrl),
      token: "a-token-of-sixteen-chars",
      logger: createLogger({ sink: (_l, line) => logs.push(line) }),
    });
    const call = (path: string, body: unknown) =>
      down.app.request(path, {
        method: "POST",
        headers: { authorization: "Bearer a-token-of-sixteen-chars", "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    try {
      expect((await call("/", ["PING"])).status).toBe(503);
      expect((await call("/pipeline", [["PING"]])).status).toBe(503);
      const tx = await call("/multi-exec", [["PING"]]);
      expect(tx.status).toBe(503);
      expect(((await tx.json()) as Entry).error).toContain(`127.0.0.1:${new URL(deadUrl).port}`);
      expect((await down.app.request("/")).status).toBe(503);
      expect(logs.some((line) => line.includes("cannot reach Redis"))).toBe(true);
    } finally {
      down.close();
    }
  });
});
