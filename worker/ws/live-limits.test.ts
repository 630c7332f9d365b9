/**
 * Issue 8's live-connection attacks against two real live servers and the real Redis: parallel
 * upgrades racing for a cap, SSE as a way around it, many identities from one address, big
 * frames, tokens that expire mid-stream, and an instance that dies holding slots.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ROOT } from "../../infrastructure/paths.ts";
import { mintEventToken } from "../../shared/auth/event-token.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { freePort, type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";
import { type Recorded, record } from "../testing/ws-client.ts";
import { MAX_CLIENT_FRAME_BYTES } from "./live-service.ts";
import { createLiveSlots, type LiveSlot } from "./live-slots.ts";
import { TOKEN_EXPIRED_CLOSE } from "./ws-routes.ts";

const PER_USER = 5;
const PER_ADDRESS = 8;
let p: Pipeline;
const provider = scriptedProvider([]);
beforeAll(async () => {
  p = await startPipeline({
    provider,
    workers: 1,
    liveServers: 2,
    live: { maxSocketsPerUser: PER_USER, maxSocketsPerAddress: PER_ADDRESS },
  });
});
afterAll(async () => {
  provider.release();
  await p.stop();
});

/** A generation held open at a gate, so its live connections stay open until closed. */
async function heldGeneration(user: string) {
  provider.script.push({ kind: "gate" });
  const r = await p.submit(user, { prompt: "held", width: 256, height: 256 });
  const body = (await r.json()) as { id: string; links: { events: string } };
  return { id: body.id, token: new URL(body.links.events).searchParams.get("token") ?? "" };
}
const wsUrl = (server: number, id: string, token: string) =>
  `${p.liveServers[server]?.url}/ws/generations/${id}?token=${token}`;
const sseUrl = (server: number, id: string, token: string) =>
  `${p.liveServers[server]?.url.replace("ws:", "http:")}/events/generations/${id}?token=${token}`;

/** Opens a WebSocket; resolves whether the server let it open. */
async function tryWebSocket(url: string): Promise<{ opened: boolean; client: Recorded }> {
  const client = record(url);
  await Promise.race([client.until((m) => m.type === "snapshot", 20_000).catch(() => {}), client.closed]);
  return { opened: client.opened, client };
}
/** Opens an SSE stream; resolves its status and a way to hang up. */
async function trySse(url: string) {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal });
  return { status: response.status, close: () => abort.abort() };
}
/** Live slots still counted in Redis for a user (expired leases included until pruned). */
const slotsOf = (userId: string) => p.redis.send("ZCARD", [redisKeys(p.prefix).liveByUser(userId)]).then(Number);
async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await Bun.sleep(50);
  }
}

describe("caps counted in Redis across instances", () => {
  test("40 parallel WebSocket and SSE opens for one user on two instances: exactly the cap gets in", async () => {
    const g = await heldGeneration("hal");
    const attempts = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => tryWebSocket(wsUrl(i % 2, g.id, g.token)).then((r) => ({ ws: r }))),
      ...Array.from({ length: 10 }, (_, i) => trySse(sseUrl(i % 2, g.id, g.token)).then((r) => ({ sse: r }))),
    ]);
    const openWs = attempts.flatMap((a) => ("ws" in a && a.ws.opened ? [a.ws.client] : []));
    const sse = attempts.flatMap((a) => ("sse" in a ? [a.sse] : []));
    const openSse = sse.filter((s) => s.status === 200);
    expect(openWs.length + openSse.length).toBe(PER_USER);
    expect(sse.filter((s) => s.status !== 200).every((s) => s.status === 429)).toBe(true);
    expect(await slotsOf("hal")).toBe(PER_USER);

    // Closing frees the slots: the user gets in again.
    for (const client of openWs) client.socket.close();
    for (const s of openSse) s.close();
    await until(async () => (await slotsOf("hal")) === 0);
    const again = await tryWebSocket(wsUrl(1, g.id, g.token));
    expect(again.opened).toBe(true);
    again.client.socket.close();
    await until(async () => (await slotsOf("hal")) === 0);
  }, 60_000);

  test("many users from one address share the address cap", async () => {
    const users = Array.from({ length: 12 }, (_, i) => `ip-user-${i}`);
    const generations = await Promise.all(users.map(heldGeneration));
    const attempts = await Promise.all(generations.map((g, i) => tryWebSocket(wsUrl(i % 2, g.id, g.token))));
    const open = attempts.filter((a) => a.opened);
    expect(open.length).toBe(PER_ADDRESS);
    const refused = await fetch(sseUrl(0, generations[0]?.id ?? "", generations[0]?.token ?? ""));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      "too many live connections from this address",
    );
    for (const a of open) a.client.socket.close();
    await until(async () => (await Promise.all(users.map(slotsOf))).every((n) => n === 0));
  }, 60_000);
});

describe("clients behind a proxy (WS_TRUSTED_CLIENT_IP_HEADER)", () => {
  /** Opens SSE streams to `server` as the proxy would, naming each client in X-Real-IP; returns the statuses. */
  async function openAs(base: string, clients: string[], user: string) {
    const generations = await Promise.all(clients.map((_, i) => heldGeneration(`${user}-${i}`)));
    const streams = await Promise.all(
      generations.map(async (g, i) => {
        const abort = new AbortController();
        const url = `${base}/events/generations/${g.id}?token=${g.token}`;
        const response = await fetch(url, { signal: abort.signal, headers: { "x-real-ip": clients[i] ?? "" } });
        return { status: response.status, close: () => abort.abort() };
      }),
    );
    const users = clients.map((_, i) => `${user}-${i}`);
    return {
      statuses: streams.map((s) => s.status),
      async close() {
        for (const s of streams) s.close();
        await until(async () => (await Promise.all(users.map(slotsOf))).every((n) => n === 0));
      },
    };
  }
  let proxied: Awaited<ReturnType<Pipeline["startLive"]>>;
  let proxiedBase: string;
  beforeAll(async () => {
    proxied = await p.startLive(0, { trustedClientIpHeader: "X-Real-IP" });
    proxiedBase = proxied.url.replace("ws:", "http:");
  });

  test("distinct clients behind one proxy peer each get their own cap, not one shared bucket", async () => {
    const clients = Array.from({ length: PER_ADDRESS + 4 }, (_, i) => `198.51.100.${i + 1}`);
    const opened = await openAs(proxiedBase, clients, "proxied");
    expect(opened.statuses.every((s) => s === 200)).toBe(true);
    await opened.close();
  }, 60_000);

  test("one client cannot evade the cap by rotating through the /64s of its IPv6 /48", async () => {
    const clients = Array.from({ length: PER_ADDRESS + 4 }, (_, i) => `2001:db8:7:${(i + 1).toString(16)}::1`);
    const opened = await openAs(proxiedBase, clients, "rotator");
    expect(opened.statuses.filter((s) => s === 200).length).toBe(PER_ADDRESS);
    expect(opened.statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    await opened.close();
  }, 60_000);

  test("without the setting the header is never read: a forged X-Real-IP does not escape the peer's cap", async () => {
    const clients = Array.from({ length: PER_ADDRESS + 4 }, (_, i) => `203.0.113.${i + 1}`);
    const opened = await openAs(p.liveServers[0]?.url.replace("ws:", "http:") ?? "", clients, "forger");
    expect(opened.statuses.filter((s) => s === 200).length).toBe(PER_ADDRESS);
    await opened.close();
  }, 60_000);
});

describe("each connection's own limits", () => {
  test(`a client frame over ${MAX_CLIENT_FRAME_BYTES} bytes closes the socket (1009); a ping still gets pong`, async () => {
    const g = await heldGeneration("ivy");
    const client = record(wsUrl(0, g.id, g.token));
    await client.until((m) => m.type === "snapshot");
    client.socket.send("ping");
    await client.until((m) => (m as { type: string }).type === "pong");
    client.socket.send("x".repeat(MAX_CLIENT_FRAME_BYTES + 1));
    expect((await client.closed).code).toBe(1009);
  });

  test(`a socket is closed with ${TOKEN_EXPIRED_CLOSE} when its token expires, and the token is refused after`, async () => {
    const g = await heldGeneration("jay");
    // Issued long enough ago that it expires two seconds from now.
    const now = Math.floor(Date.now() / 1000);
    const token = await mintEventToken("jay", g.id, p.jwtSecret, now - 15 * 60 + 2);
    const client = record(wsUrl(1, g.id, token));
    await client.until((m) => m.type === "snapshot");
    expect(await client.closed).toEqual({ code: TOKEN_EXPIRED_CLOSE, reason: "token expired" });
    expect((await fetch(sseUrl(1, g.id, token))).status).toBe(401);
    await until(async () => (await slotsOf("jay")) === 0);
  });

  test("an SSE stream ends when its token expires (its generation still running) and frees its slot", async () => {
    const g = await heldGeneration("joy");
    const now = Math.floor(Date.now() / 1000);
    const token = await mintEventToken("joy", g.id, p.jwtSecret, now - 15 * 60 + 2);
    const stream = await fetch(sseUrl(0, g.id, token));
    expect(stream.status).toBe(200);
    expect(await slotsOf("joy")).toBe(1);
    // The generation is held at its gate, so only the token's expiry can end the stream; the
    // body resolves when the server ends it (a stream outliving its token would time the test out).
    const body = await stream.text();
    expect(body).toContain("event: snapshot");
    expect((await fetch(sseUrl(0, g.id, token))).status).toBe(401);
    await until(async () => (await slotsOf("joy")) === 0);
  });
});

describe("an instance that dies holding slots", () => {
  const children: Subprocess[] = [];
  afterAll(() => {
    for (const child of children) child.kill("SIGKILL");
  });

  test("does not leak them: they come free once their lease lapses", async () => {
    const port = freePort();
    const leaseMs = 3000;
    const child = Bun.spawn([process.execPath, join(ROOT, "worker/ws/main.ts")], {
      cwd: mkdtempSync(join(tmpdir(), "live-")),
      env: {
        PATH: process.env.PATH ?? "",
        WS_PORT: String(port),
        REDIS_URL: "redis://127.0.0.1:6379",
        REDIS_KEY_PREFIX: p.prefix,
        AUTH_JWT_SECRET: p.jwtSecret,
        STUDIO_ORIGIN: p.studioOrigin,
        WS_MAX_SOCKETS_PER_USER: "2",
        WS_SLOT_LEASE_MS: String(leaseMs),
        LOG_LEVEL: "error",
      },
      stdout: "ignore",
      stderr: "ignore",
    });
    children.push(child);
    await until(() =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    );
    const g = await heldGeneration("kai");
    const url = `ws://127.0.0.1:${port}/ws/generations/${g.id}?token=${g.token}`;
    const held = [await tryWebSocket(url), await tryWebSocket(url)];
    expect(held.map((h) => h.opened)).toEqual([true, true]);
    expect((await tryWebSocket(url)).opened).toBe(false);

    child.kill("SIGKILL");
    await child.exited;
    // Another instance with the same cap: refused while the dead one's leases stand, admitted after.
    const slots = createLiveSlots({
      redis: p.redis,
      prefix: p.prefix,
      maxPerUser: 2,
      maxPerAddress: 100,
      leaseMs,
      logger: silentLogger,
    });
    try {
      expect(await slots.acquire("kai", "127.0.0.1")).toBe("user");
      const slot = await new Promise<LiveSlot>((resolve, reject) => {
        const deadline = Date.now() + 15_000;
        const attempt = async () => {
          const outcome = await slots.acquire("kai", "127.0.0.1");
          if (typeof outcome === "object") resolve(outcome);
          else if (Date.now() > deadline) reject(new Error(`still refused (${outcome})`));
          else setTimeout(attempt, 100);
        };
        void attempt();
      });
      await slot.release();
    } finally {
      slots.close();
    }
  }, 60_000);
});
