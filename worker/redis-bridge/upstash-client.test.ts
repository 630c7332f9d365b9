/** The real @upstash/redis client against the bridge over the real Redis. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis as Upstash } from "@upstash/redis";
import { APPLY_REQUEST } from "../../shared/redis-scripts.ts";
import { rejectionOf } from "../redis/redis-test-env.ts";
import { startTestBridge, type TestBridge } from "./bridge-test-server.ts";

let bridge: TestBridge;
let client: Upstash;
/** Every call its own HTTP request to `POST /` (the default client batches concurrent calls into /pipeline). */
let single: Upstash;
/** Asks for plain JSON strings instead of base64. */
let plain: Upstash;
let k: (name: string) => string;

beforeAll(async () => {
  bridge = await startTestBridge();
  const base = { url: bridge.url, token: bridge.token, enableTelemetry: false };
  client = new Upstash(base);
  single = new Upstash({ ...base, enableAutoPipelining: false });
  plain = new Upstash({ ...base, enableAutoPipelining: false, responseEncoding: false });
  k = (name) => `${bridge.prefix}${name}`;
});

afterAll(async () => {
  await bridge.stop();
});

describe("@upstash/redis through the bridge", () => {
  const text = 'héllo ✓ 画像 🎨 "quoted" \n new line';

  test("strings round-trip through the base64 path, the plain path and auto-pipelining", async () => {
    expect(await single.set(k("s"), text)).toBe("OK");
    expect(await single.get<string>(k("s"))).toBe(text);
    expect(await plain.get<string>(k("s"))).toBe(text);
    const [a, b] = await Promise.all([client.get<string>(k("s")), client.get(k("absent"))]);
    expect(a).toBe(text);
    expect(b).toBeNull();
    expect(await bridge.redis.send("GET", [k("s")])).toBe(text);
  });

  test("numbers, JSON values and counters", async () => {
    await single.set(k("n"), 42);
    expect(await single.get<number>(k("n"))).toBe(42);
    expect(await single.incr(k("n"))).toBe(43);
    expect(await single.incrbyfloat(k("f"), 1.5)).toBe(1.5);
    await single.set(k("obj"), { name: "pixel", sizes: [256, 512] });
    expect(await single.get(k("obj"))).toEqual({ name: "pixel", sizes: [256, 512] });
    await single.set(k("ttl"), "x", { ex: 100 });
    const ttl = await single.ttl(k("ttl"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100);
  });

  test("hashes", async () => {
    expect(await single.hset(k("h"), { title: text, count: 2 })).toBe(2);
    expect(await single.hget<string>(k("h"), "title")).toBe(text);
    expect(await single.hincrby(k("h"), "count", 3)).toBe(5);
    expect(await single.hgetall(k("h"))).toEqual({ title: text, count: 5 });
    expect(await single.hgetall(k("no-hash"))).toBeNull();
  });

  test("sorted sets and lists", async () => {
    await single.zadd(k("z"), { score: 2.5, member: "b" }, { score: 1, member: "a" }, { score: 10, member: text });
    expect(await single.zrange(k("z"), 0, -1)).toEqual(["a", "b", text]);
    expect(await single.zrange(k("z"), 0, 1, { withScores: true })).toEqual(["a", 1, "b", 2.5]);
    expect(await single.zscore(k("z"), "b")).toBe(2.5);
    expect(await single.zrank(k("z"), text)).toBe(2);
    expect(await single.zcard(k("z"))).toBe(3);
    await single.rpush(k("l"), "one", "two", text);
    expect(await single.lrange(k("l"), 0, -1)).toEqual(["one", "two", text]);
  });

  test("MGET/MSET and EXISTS/DEL; SCAN, which reaches past the prefix, is refused", async () => {
    await single.mset({ [k("m1")]: "a", [k("m2")]: 2 });
    expect(await single.mget(k("m1"), k("m2"), k("m3"))).toEqual(["a", 2, null]);
    expect(await single.exists(k("m1"), k("m3"))).toBe(1);
    expect(await single.del(k("m1"), k("m2"))).toBe(2);
    expect((await rejectionOf(single.scan(0, { match: `${bridge.prefix}*` }))).message).toContain(
      "ERR command SCAN is not allowed",
    );
  });

  test("a pipeline runs in order and reports a failing command by itself", async () => {
    const results = await client.pipeline().set(k("p"), 1).incr(k("p")).get(k("p")).hset(k("ph"), { a: "x" }).exec();
    expect(results).toEqual(["OK", 2, 2, 1]);

    await single.set(k("p-str"), "x");
    const failing = client.pipeline().set(k("p2"), "v").hget(k("p-str"), "f").get(k("p2"));
    expect((await rejectionOf(failing.exec())).message).toContain("WRONGTYPE");
    const kept = await client
      .pipeline()
      .set(k("p3"), "v")
      .hget(k("p-str"), "f")
      .get(k("p3"))
      .exec({ keepErrors: true });
    expect(kept[0]).toEqual({ result: "OK", error: undefined });
    expect(kept[1]?.error).toStartWith("WRONGTYPE");
    expect(kept[2]).toEqual({ result: "v", error: undefined });
  });

  test("a transaction returns every result and keeps applying after a failing command", async () => {
    expect(await client.multi().set(k("t"), 5).incrby(k("t"), 2).get(k("t")).exec()).toEqual(["OK", 7, 7]);
    await single.set(k("t-str"), "x");
    const kept = await client.multi().incr(k("t2")).hget(k("t-str"), "f").incr(k("t2")).exec({ keepErrors: true });
    expect(kept.map((r) => r.result ?? r.error?.slice(0, 9))).toEqual([1, "WRONGTYPE", 2]);
  });

  test("transactions are atomic while other requests are served on the shared connection", async () => {
    const counter = k("atomic");
    const rounds = 40;
    const transactions = Array.from({ length: rounds }, () =>
      client.multi().incr(counter).incr(counter).incr(counter).get(counter).exec(),
    );
    const singles = Array.from({ length: 200 }, (_, i) =>
      single.set(k(`side-${i}`), `v${i}`).then(() => single.get<string>(k(`side-${i}`))),
    );
    const [txResults, sideResults] = await Promise.all([Promise.all(transactions), Promise.all(singles)]);
    // Inside MULTI nothing can run between the three INCRs, so each transaction sees n, n+1, n+2.
    for (const [a, b, c, read] of txResults as number[][]) {
      expect([b, c, read]).toEqual([(a as number) + 1, (a as number) + 2, (a as number) + 2]);
    }
    const firsts = (txResults as number[][]).map((r) => r[0]).sort((x, y) => (x as number) - (y as number));
    expect(firsts).toEqual(Array.from({ length: rounds }, (_, i) => 1 + 3 * i));
    // No single command was swept into someone's transaction (it would have answered QUEUED).
    expect(sideResults).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
  });

  test("the edge's scripts run by EVAL, EVALSHA and SCRIPT LOAD/EXISTS; any other script is refused", async () => {
    const snapshot = JSON.stringify({ id: "g1", userId: "u", status: "queued", params: {}, partition: 0, offset: "5" });
    const keys = [k("gen:g1"), k("user:u:gens"), k("queue:0"), k("deleted:g1")];
    expect(await single.eval(APPLY_REQUEST, keys, [snapshot, "g1", "5", 60])).toBe(1);
    const sha = await single.scriptLoad(APPLY_REQUEST);
    expect(await single.scriptExists(sha)).toEqual([1]);
    expect(await single.evalsha(sha, keys, [snapshot, "g1", "5", 60])).toBe(1);
    expect(await bridge.redis.send("ZSCORE", [k("queue:0"), "g1"])).toBe("5");

    const other = "return redis.call('INCR', KEYS[1])";
    const otherSha = new Bun.CryptoHasher("sha1").update(other).digest("hex");
    for (const refused of [
      single.eval(other, [k("x")], []),
      single.scriptLoad(other),
      single.evalsha(otherSha, [k("x")], []),
      single.evalsha("0".repeat(40), [], []),
    ])
      expect((await rejectionOf(refused)).message).toContain("is not allowed");
    expect(await bridge.redis.send("EXISTS", [k("x")])).toBe(0);
  });

  test("a Redis error is thrown with Redis's message", async () => {
    await single.set(k("wrong"), "x");
    expect((await rejectionOf(single.lpush(k("wrong"), "a"))).message).toStartWith("WRONGTYPE");
    expect((await rejectionOf(client.lpush(k("wrong"), "a"))).message).toContain("WRONGTYPE");
  });

  test("a wrong token is refused", async () => {
    const stranger = new Upstash({ url: bridge.url, token: "not-the-token", enableAutoPipelining: false });
    expect((await rejectionOf(stranger.get(k("s")))).message).toContain("Unauthorized");
  });

  test("denied commands fail, alone and inside a pipeline, without failing their neighbours", async () => {
    expect((await rejectionOf(single.flushall())).message).toContain("ERR command FLUSHALL is not allowed");
    expect((await rejectionOf(single.keys("*"))).message).toContain("ERR command KEYS is not allowed");
    const [flush, set] = await Promise.allSettled([client.flushdb(), client.set(k("neighbour"), "ok")]);
    expect(flush.status).toBe("rejected");
    expect(set).toEqual({ status: "fulfilled", value: "OK" });
    const tx = client.multi().set(k("tx-denied"), "x").flushdb();
    expect((await rejectionOf(tx.exec())).message).toContain("ERR command FLUSHDB is not allowed");
    expect(await bridge.redis.send("EXISTS", [k("tx-denied")])).toBe(0);
    expect(bridge.logs.some((line) => line.includes("refused a command") && line.includes("FLUSHALL"))).toBe(true);
  });

  test("PUBLISH is refused (the edge publishes nothing; a forged event must not reach live clients); PING answers", async () => {
    expect((await rejectionOf(single.publish(k("events:x"), "{}"))).message).toContain(
      "ERR command PUBLISH is not allowed",
    );
    expect(await single.ping()).toBe("PONG");
  });
});
