/**
 * Budgets an attacker cannot multiply, against the real broker and Redis: a user's generations
 * queued or running at once (however the rate limit is spread), anonymous submissions of every
 * address together, and per-address limits that count an IPv6 client by its /48.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { API_ERRORS } from "../shared/api-errors.ts";
import { redisKeys } from "../shared/redis-keys.ts";
import { endOffsetTotal } from "../worker/gateway/gateway-fixtures.ts";
import { type Pipeline, startPipeline } from "../worker/testing/pipeline-harness.ts";
import { scriptedProvider } from "../worker/testing/scripted-provider.ts";

const provider = scriptedProvider([]);
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ provider, maxConcurrent: 1 });
});
afterAll(async () => {
  provider.release();
  await p.stop();
});

const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string } }).error;
const cookieOf = (response: Response) => (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";

describe("generations in flight per user (MAX_IN_FLIGHT_PER_USER)", () => {
  test("queued and running together are capped: the next submit is 429 too_many_in_flight, nothing produced; a place frees when one ends", async () => {
    const edge = p.startEdge({ MAX_IN_FLIGHT_PER_USER: "3", RATE_LIMIT_PER_MINUTE: "1000" });
    const token = await p.token("hoarder");
    const post = (headers: Record<string, string> = {}) =>
      fetch(`${edge}/api/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
        body: JSON.stringify({ prompt: "held", width: 256, height: 256 }),
      });
    // One worker slot held at a gate: the first runs, the next two wait in the queue.
    provider.script.push({ kind: "gate" });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await post();
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { id: string }).id);
    }
    const offsets = await endOffsetTotal(p.kafka, p.topics.requests.name);
    const refused = await post({ "idempotency-key": "fourth" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await errorOf(refused)).toEqual({
      code: "too_many_in_flight",
      message: API_ERRORS.too_many_in_flight.message,
    });
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(offsets);
    // Nor recorded: the cap is checked in the step that would write the snapshot.
    expect(await p.redis.send("ZCARD", [redisKeys(p.prefix).userGenerations("hoarder")])).toBe(3);
    // Another user is not affected.
    expect((await p.submit("bystander", { prompt: "mine", width: 256, height: 256 })).status).toBe(202);

    // Once the running one ends the user has a place again (the refused key was not kept either).
    provider.release();
    expect((await p.waitFor("hoarder", ids[0] as string)).status).toBe("completed");
    let again = await post({ "idempotency-key": "fourth" });
    const deadline = Date.now() + 15_000;
    while (again.status === 429 && Date.now() < deadline) {
      await Bun.sleep(50);
      again = await post({ "idempotency-key": "fourth" });
    }
    expect(again.status).toBe(202);
  }, 60_000);
});

describe("per client address and in all", () => {
  let edge: string;
  beforeAll(() => {
    edge = p.startEdge({
      TRUSTED_CLIENT_IP_HEADER: "CF-Connecting-IP",
      READS_PER_IP_PER_MINUTE: "3",
      ANONYMOUS_SUBMITS_PER_IP_PER_MINUTE: "100",
      ANONYMOUS_SUBMITS_PER_MINUTE: "2",
    });
  });

  test("an IPv6 client counts by its /48: rotating through its /64s does not give it fresh limits", async () => {
    const read = async (ip: string) =>
      fetch(`${edge}/api/generations`, {
        headers: { authorization: `Bearer ${await p.token("reader")}`, "cf-connecting-ip": ip },
      });
    for (const ip of ["2001:db8:5:1::1", "2001:db8:5:2::1", "2001:db8:5:3::1"])
      expect((await read(ip)).status).toBe(200);
    const refused = await read("2001:db8:5:ffff::1");
    expect(refused.status).toBe(429);
    // Another /48 has its own budget.
    expect((await read("2001:db8:6::1")).status).toBe(200);
  });

  test("anonymous submissions of all addresses together stop at ANONYMOUS_SUBMITS_PER_MINUTE", async () => {
    const addresses = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"];
    const statuses: number[] = [];
    for (const ip of addresses) {
      const cookie = cookieOf(await fetch(`${edge}/`, { headers: { "cf-connecting-ip": ip } }));
      const r = await fetch(`${edge}/api/generations`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", "cf-connecting-ip": ip },
        body: JSON.stringify({ prompt: "free render", width: 256, height: 256 }),
      });
      statuses.push(r.status);
      if (r.status === 429) expect((await errorOf(r)).code).toBe("rate_limited");
    }
    expect(statuses).toEqual([202, 202, 429, 429]);
  });
});
