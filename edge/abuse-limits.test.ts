/**
 * Abuse limits at the edge, against the real broker and Redis (pipeline harness): per-client-IP
 * limits on new sessions, anonymous submissions and reads; the trusted client-IP header; the
 * backlog guard on the workers' real consumer lag; the bound on the synchronous path.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redisKeys } from "../shared/redis-keys.ts";
import { measureLag } from "../worker/backlog/backlog-reporter.ts";
import { endOffsetTotal } from "../worker/gateway/gateway-fixtures.ts";
import { type Pipeline, startPipeline } from "../worker/testing/pipeline-harness.ts";
import { scriptedProvider } from "../worker/testing/scripted-provider.ts";

const provider = scriptedProvider([]);
let p: Pipeline;
let trusting: string;
beforeAll(async () => {
  p = await startPipeline({ provider, maxConcurrent: 1 });
  trusting = p.startEdge({
    TRUSTED_CLIENT_IP_HEADER: "CF-Connecting-IP",
    SESSIONS_PER_IP_PER_HOUR: "3",
    ANONYMOUS_SUBMITS_PER_IP_PER_MINUTE: "2",
    READS_PER_IP_PER_MINUTE: "3",
  });
});
afterAll(() => p.stop());

const visit = (edge: string, ip: string, cookie?: string) =>
  fetch(`${edge}/`, { headers: { "cf-connecting-ip": ip, ...(cookie ? { cookie } : {}) } });
const cookieOf = (response: Response) => (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
const expectRefused = async (response: Response, status: 429 | 503, code: string) => {
  expect(response.status).toBe(status);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
};

/**
 * Waits until the workers have finished every request submitted so far, measured now (the
 * published figure may predate the latest ones), so none of them takes a gate a test sets up.
 */
async function earlierRequestsFinished(): Promise<void> {
  const admin = p.kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 30_000;
    while ((await measureLag(admin, p.topics.requests.name, p.kafkaConfig.consumerGroup)) !== 0) {
      if (Date.now() > deadline) throw new Error("earlier requests did not finish");
      await Bun.sleep(50);
    }
  } finally {
    await admin.disconnect();
  }
}

describe("per client address", () => {
  test("GET / mints at most SESSIONS_PER_IP_PER_HOUR anonymous users per address; a returning cookie mints none", async () => {
    const first = await visit(trusting, "203.0.113.7");
    expect(first.status).toBe(200);
    const cookie = cookieOf(first);
    expect(cookie).toStartWith("ps_session=");
    for (let i = 0; i < 2; i++) expect((await visit(trusting, "203.0.113.7")).status).toBe(200);
    await expectRefused(await visit(trusting, "203.0.113.7"), 429, "rate_limited");
    // The session already held still works, without minting.
    const back = await visit(trusting, "203.0.113.7", cookie);
    expect(back.status).toBe(200);
    expect(back.headers.get("set-cookie")).toBeNull();
    // Another address has its own budget; IPv6 clients are counted per /64.
    expect((await visit(trusting, "198.51.100.9")).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await visit(trusting, `2001:db8:1:2::${i + 1}`)).status).toBe(200);
    await expectRefused(await visit(trusting, "2001:db8:1:2:ffff::9"), 429, "rate_limited");
  });

  test("without TRUSTED_CLIENT_IP_HEADER the header is ignored: spoofed addresses share the peer's budget", async () => {
    const plain = p.startEdge({ SESSIONS_PER_IP_PER_HOUR: "2" });
    expect((await visit(plain, "192.0.2.1")).status).toBe(200);
    expect((await visit(plain, "192.0.2.2")).status).toBe(200);
    await expectRefused(await visit(plain, "192.0.2.3"), 429, "rate_limited");
  });

  test("anonymous submissions are limited per address across however many sessions it holds", async () => {
    const submit = async (cookie: string) =>
      fetch(`${trusting}/api/generations`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", "cf-connecting-ip": "203.0.113.50" },
        body: JSON.stringify({ prompt: "free render", width: 256, height: 256 }),
      });
    const cookies = [];
    for (const ip of ["203.0.113.51", "203.0.113.52", "203.0.113.53"])
      cookies.push(cookieOf(await visit(trusting, ip)));
    expect((await submit(cookies[0] as string)).status).toBe(202);
    expect((await submit(cookies[1] as string)).status).toBe(202);
    await expectRefused(await submit(cookies[2] as string), 429, "rate_limited");
    // A token user is limited per user, not per address.
    const token = await p.token("paying-customer");
    const viaToken = await fetch(`${trusting}/api/generations`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "cf-connecting-ip": "203.0.113.50",
      },
      body: JSON.stringify({ prompt: "paid render", width: 256, height: 256 }),
    });
    expect(viaToken.status).toBe(202);
  });

  test("reads (list, get, cancel) are limited per address, whichever users' tokens it uses", async () => {
    const read = async (user: string) =>
      fetch(`${trusting}/api/generations`, {
        headers: { authorization: `Bearer ${await p.token(user)}`, "cf-connecting-ip": "203.0.113.80" },
      });
    for (const user of ["r1", "r2", "r3"]) expect((await read(user)).status).toBe(200);
    await expectRefused(await read("r4"), 429, "rate_limited");
  });
});

describe("backlog guard", () => {
  test("over BACKLOG_MAX_REQUESTS unfinished requests, submissions get 503 + Retry-After and nothing is produced; admitted again once drained", async () => {
    const guarded = p.startEdge({ BACKLOG_MAX_REQUESTS: "2" });
    const key = redisKeys(p.prefix).backlog();
    const lag = async () => {
      const raw = await p.redis.send("GET", [key]);
      return typeof raw === "string" ? (JSON.parse(raw) as { lag: number }).lag : null;
    };
    const deadline = Date.now() + 30_000;
    await earlierRequestsFinished();
    // The figure is reported every so often: wait until it has seen earlier tests' requests end,
    // or a stale lag refuses this test's first submissions.
    while (((await lag()) ?? 0) > 0 && Date.now() < deadline) await Bun.sleep(50);
    // One worker slot, held at a gate: requests pile up behind it.
    provider.script.push({ kind: "gate" }, { kind: "gate" }, { kind: "gate" });
    const token = await p.token("backlogger");
    const post = () =>
      fetch(`${guarded}/api/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: "queued", width: 256, height: 256 }),
      });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await post();
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { id: string }).id);
    }
    while (((await lag()) ?? 0) < 3 && Date.now() < deadline) await Bun.sleep(50);
    expect(await lag()).toBe(3);

    const offsets = await endOffsetTotal(p.kafka, p.topics.requests.name);
    await expectRefused(await post(), 503, "unavailable");
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(offsets);

    // Each request meets a fresh gate when it starts: keep opening them until all are done.
    const releasing = setInterval(() => provider.release(), 20);
    try {
      for (const id of ids) await p.waitFor("backlogger", id);
    } finally {
      clearInterval(releasing);
    }
    while (((await lag()) ?? 1) > 0 && Date.now() < deadline) await Bun.sleep(50);
    expect((await post()).status).toBe(202);
  }, 60_000);

  test("no figure (reporter stopped, value expired) is unknown and admits", async () => {
    const guarded = p.startEdge({ BACKLOG_MAX_REQUESTS: "1" });
    const key = redisKeys(p.prefix).backlog();
    await p.redis.send("SET", [key, JSON.stringify({ lag: 50, at: new Date().toISOString() }), "PX", "300"]);
    await p.backlog.stop();
    await p.redis.send("SET", [key, JSON.stringify({ lag: 50, at: new Date().toISOString() }), "PX", "300"]);
    const post = async () =>
      fetch(`${guarded}/api/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${await p.token("stale")}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: "queued", width: 256, height: 256 }),
      });
    await expectRefused(await post(), 503, "unavailable");
    while ((await p.redis.send("EXISTS", [key])) === 1) await Bun.sleep(50);
    expect((await post()).status).toBe(202);
  });
});

describe("synchronous path (ENABLE_KAFKA_IMAGE_GENERATION=false)", () => {
  test("past SYNC_MAX_IN_FLIGHT generations at once, the next is refused at once with 503 + Retry-After", async () => {
    const sync = p.startEdge({ ENABLE_KAFKA_IMAGE_GENERATION: "false", SYNC_MAX_IN_FLIGHT: "1" });
    // The provider's call count below must be this path's, not a queued request's.
    await earlierRequestsFinished();
    provider.script.push({ kind: "gate" });
    const token = await p.token("sync-user");
    const post = () =>
      fetch(`${sync}/api/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: "now", width: 256, height: 256 }),
      });
    const before = provider.calls;
    const first = post();
    const deadline = Date.now() + 10_000;
    while (provider.calls === before && Date.now() < deadline) await Bun.sleep(20);
    const callsBefore = provider.calls;
    await expectRefused(await post(), 503, "unavailable");
    expect(provider.calls).toBe(callsBefore);
    provider.release();
    expect((await first).status).toBe(200);
    expect((await post()).status).toBe(200);
  });
});
