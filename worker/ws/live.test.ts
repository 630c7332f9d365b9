import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signJwt } from "../../shared/auth/jwt.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { CompletedMessage, ServerMessage } from "../../shared/ws-messages.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";
import { stalledClient } from "../testing/stalled-ws-client.ts";
import { record, seqGaps } from "../testing/ws-client.ts";

let p: Pipeline;
const provider = scriptedProvider([]);
beforeAll(async () => {
  p = await startPipeline({ provider, workers: 2, liveServers: 2, maxConcurrent: 8, live: { maxSocketsPerUser: 3 } });
});
afterAll(() => p.stop());

async function submit(user: string, prompt = "live") {
  const r = await p.submit(user, { prompt, width: 256, height: 256 });
  return (await r.json()) as { id: string; links: { events: string } };
}
const tokenOf = (events: string) => new URL(events).searchParams.get("token") ?? "";
const wsUrl = (server: number, id: string, token: string, query = "") =>
  `${p.liveServers[server]?.url}/ws/generations/${id}?token=${token}${query}`;

describe("GET /ws/generations/{id}", () => {
  test("a client that submits and opens links.events gets snapshot, consecutive status events, completed, then 1000", async () => {
    const g = await submit("ann");
    const client = record(g.links.events);
    const { code } = await client.closed;
    expect(code).toBe(1000);
    const types = client.messages.map((m) => m.type);
    expect(types[0]).toBe("snapshot");
    expect(types.at(-1)).toBe("completed");
    expect(types.slice(1, -1).every((t) => t === "status" || t === "preview")).toBe(true);
    expect(seqGaps(client.messages)).toEqual([]);
    const done = client.messages.at(-1) as CompletedMessage;
    expect(done.image).toMatchObject({ width: 256, height: 256, format: "webp" });
    expect(done.timings.totalMs).toBeGreaterThanOrEqual(done.timings.generationMs);
  });

  test("50 concurrent generations, sockets spread over two instances: every event once, in order, no gaps", async () => {
    const generations = await Promise.all(Array.from({ length: 50 }, (_, i) => submit(`user-${i}`, `bulk ${i}`)));
    const clients = generations.map((g, i) => record(wsUrl(i % 2, g.id, tokenOf(g.links.events))));
    const closes = await Promise.all(clients.map((c) => c.closed));
    expect(closes.map((c) => c.code)).toEqual(closes.map(() => 1000));
    for (const client of clients) {
      expect(client.messages[0]?.type).toBe("snapshot");
      // A generation that ended before its socket opened is told in the snapshot alone.
      const last = client.messages.at(-1);
      expect(last?.type === "completed" || (last?.type === "snapshot" && last.status === "completed")).toBe(true);
      expect(seqGaps(client.messages)).toEqual([]);
    }
  });

  test("resume with after=<seq> replays exactly the missed events", async () => {
    const g = await submit("ben");
    const first = record(g.links.events);
    await first.closed;
    const last = first.messages.at(-1)?.seq ?? 0;
    expect(last).toBeGreaterThan(3);
    const resumed = record(wsUrl(1, g.id, tokenOf(g.links.events), "&after=2"));
    expect((await resumed.closed).code).toBe(1000);
    expect(resumed.messages.map((m) => m.seq)).toEqual(Array.from({ length: last - 2 }, (_, i) => i + 3));
    expect(resumed.messages.some((m) => m.type === "snapshot")).toBe(false);
  });

  test("a client whose server restarts mid-stream reconnects with after and misses nothing", async () => {
    provider.script.push({ kind: "gate" });
    const g = await submit("cat");
    const before = record(g.links.events);
    // Under load the socket may open after the stage began: then the snapshot already says so.
    await before.until((m) => (m.type === "status" || m.type === "snapshot") && m.stage === "rendering");
    await p.liveServers[0]?.stop();
    expect((await before.closed).code).toBe(1001);
    const lastSeen = before.messages.at(-1)?.seq ?? 0;
    provider.release();
    const restarted = await p.startLive(p.liveServers[0]?.port);
    const after = record(`${restarted.url}/ws/generations/${g.id}?token=${tokenOf(g.links.events)}&after=${lastSeen}`);
    expect((await after.closed).code).toBe(1000);
    const all = [...before.messages, ...after.messages];
    expect(seqGaps(all)).toEqual([]);
    expect(all.at(-1)?.type).toBe("completed");
  });

  test("a server shutting down closes its sockets with 1001 and refuses new ones (503) until it stops", async () => {
    // Held at its gate, so the generation is still running when the server shuts down.
    provider.script.push({ kind: "gate" });
    const g = await submit("fay");
    const token = tokenOf(g.links.events);
    const draining = await p.startLive();
    const open = record(`${draining.url}/ws/generations/${g.id}?token=${token}`);
    await open.until(() => true);
    draining.closeAll();
    expect((await open.closed).code).toBe(1001);
    const http = draining.url.replace("ws:", "http:");
    const upgrade = await fetch(`${http}/ws/generations/${g.id}?token=${token}`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    expect(upgrade.status).toBe(503);
    expect(((await upgrade.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    const sse = await fetch(`${http}/events/generations/${g.id}?token=${token}`);
    expect(sse.status).toBe(503);
    await draining.stop();
    provider.release();
  });

  test("bad, expired and foreign tokens are refused before the upgrade with 401", async () => {
    const g = await submit("dan");
    const other = await submit("eve");
    const base = `${p.liveServers[1]?.url?.replace("ws:", "http:")}/ws/generations/${g.id}?token=`;
    const expired = await signJwt(
      { sub: "dan", gen: g.id, exp: Math.floor(Date.now() / 1000) - 1 },
      p.jwtSecret,
      "generation-events",
    );
    for (const token of ["garbage", expired, tokenOf(other.links.events), await p.token("dan")]) {
      const response = await fetch(`${base}${token}`, { headers: { upgrade: "websocket", connection: "Upgrade" } });
      expect(response.status).toBe(401);
    }
    const socket = record(`${p.liveServers[1]?.url}/ws/generations/${g.id}?token=garbage`);
    await socket.closed;
    expect(socket.opened).toBe(false);
  });

  test("only the studio origin is admitted from browsers", async () => {
    const g = await submit("fay");
    const url = wsUrl(0, g.id, tokenOf(g.links.events)).replace("ws:", "http:");
    expect((await fetch(url, { headers: { origin: "https://evil.example" } })).status).toBe(403);
    const fromStudio = record(wsUrl(1, g.id, tokenOf(g.links.events)), { headers: { origin: p.studioOrigin } });
    expect((await fromStudio.closed).code).toBe(1000);
  });

  test("a client message other than ping closes the socket with 1003; ping gets pong", async () => {
    provider.script.push({ kind: "gate" });
    const g = await submit("gus");
    const client = record(g.links.events);
    await client.until((m) => m.type === "snapshot");
    client.socket.send("ping");
    await client.until((m) => (m as { type: string }).type === "pong");
    client.socket.send("hello");
    expect((await client.closed).code).toBe(1003);
    provider.release();
  });

  test("a user is capped in live connections", async () => {
    provider.script.push({ kind: "gate" });
    const g = await submit("hal");
    const url = wsUrl(1, g.id, tokenOf(g.links.events));
    const open = [record(url), record(url), record(url)];
    await Promise.all(open.map((c) => c.until((m) => m.type === "snapshot")));
    expect((await fetch(url.replace("ws:", "http:"))).status).toBe(429);
    provider.release();
    await Promise.all(open.map((c) => c.closed));
  });
});

describe("GET /events/generations/{id} (SSE)", () => {
  test("honours Last-Event-ID and ends after the terminal event", async () => {
    const g = await submit("ida");
    await record(g.links.events).closed;
    const url = `${p.liveServers[1]?.url?.replace("ws:", "http:")}/events/generations/${g.id}?token=${tokenOf(g.links.events)}`;
    const response = await fetch(url, { headers: { "last-event-id": "1" } });
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    const text = await response.text();
    const events = text
      .split("\n\n")
      .filter((block) => block.includes("data:"))
      .map((block) => ({
        id: Number(/^id: (\d+)$/m.exec(block)?.[1]),
        event: /^event: (.+)$/m.exec(block)?.[1],
        data: JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? "{}") as ServerMessage,
      }));
    expect(events[0]?.id).toBe(2);
    expect(
      seqGaps(
        events.map((e) => e.data),
        1,
      ),
    ).toEqual([]);
    expect(events.every((e) => e.event === e.data.type && e.id === e.data.seq)).toBe(true);
    expect(events.at(-1)?.event).toBe("completed");
  });

  test("refuses a bad token with 401", async () => {
    const g = await submit("jo");
    const url = `${p.liveServers[1]?.url?.replace("ws:", "http:")}/events/generations/${g.id}?token=nope`;
    expect((await fetch(url)).status).toBe(401);
  });
});

describe("slow readers", () => {
  test("a reader that stops reading is closed (1013) while another keeps receiving everything", async () => {
    provider.script.push({ kind: "gate" });
    const g = await submit("kim");
    const url = wsUrl(0, g.id, tokenOf(g.links.events));
    const fast = record(url);
    const snapshot = await fast.until((m) => m.type === "snapshot");
    const slow = await stalledClient(url);
    // Flood the generation's channel the way the relay publishes, past every kernel buffer (~10 MiB).
    const channel = redisKeys(p.prefix).events(g.id);
    const pad = "x".repeat(2048);
    const count = 5000;
    for (let i = 1; i <= count; i++) {
      const message = {
        type: "status",
        id: g.id,
        seq: snapshot.seq + i,
        status: "processing",
        progress: 50,
        stage: "rendering",
        at: new Date().toISOString(),
        pad,
      };
      await p.redis.send("PUBLISH", [channel, JSON.stringify(message)]);
    }
    await fast.until((m) => m.seq === snapshot.seq + count, 60_000);
    expect(seqGaps(fast.messages)).toEqual([]);
    expect(fast.messages).toHaveLength(count + 1);
    expect(await slow.drain()).toBe(1013);
    fast.socket.close();
    provider.release();
  }, 90_000);
});
