/**
 * The published contract against the running pipeline (real Kafka, Redis, workers): every answer
 * and live message here must match what docs/openapi.json and docs/openapi.worker.json say.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import edgeDocument from "../../docs/openapi.json";
import workerDocument from "../../docs/openapi.worker.json";
import { mintInternalToken } from "../../shared/auth/internal-token.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import type { OpenApiDocument } from "../../shared/openapi/openapi-builder.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { deadRedisUrl } from "../redis/redis-test-env.ts";
import { contractOf } from "../testing/openapi-contract.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";
import { record } from "../testing/ws-client.ts";

const edge = contractOf(edgeDocument as unknown as OpenApiDocument, "edge");
const worker = contractOf(workerDocument as unknown as OpenApiDocument, "worker");
const provider = scriptedProvider([{ kind: "gate" }, { kind: "permanent" }]);
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ provider, edgeEnv: { RATE_LIMIT_PER_MINUTE: "5" }, live: { maxSocketsPerUser: 1 } });
});
afterAll(() => p.stop());

type Accepted = { id: string; links: { events: string } };
const json = async (r: Response) => (r.headers.get("content-type")?.includes("json") ? r.json() : undefined);
/** The answer's problems against the edge document, given the operation it answers. */
async function edgeAnswer(operation: string, response: Response) {
  return edge.response(operation, response.status, await json(response));
}
const liveHttp = () => (p.liveServers[0]?.url ?? "").replace(/^ws/, "http");
const sse = (id: string, token: string, headers: Record<string, string> = {}) =>
  fetch(`${liveHttp()}/events/generations/${id}?token=${token}`, { headers });
const tokenOf = (events: string) => new URL(events).searchParams.get("token") ?? "";

describe("the edge answers as docs/openapi.json says", () => {
  test("submit, read, list, cancel; a live socket's messages; refusals of the live endpoints", async () => {
    // A: held at "rendering" by the gate, followed live, canceled.
    const submitted = await p.submit("anna", { prompt: "held", width: 256, height: 256 });
    const a = (await submitted.clone().json()) as Accepted;
    expect(await edgeAnswer("POST /api/generations", submitted)).toEqual([]);
    expect(submitted.headers.get("location")).toBe(`/api/generations/${a.id}`);
    const socket = record(a.links.events);
    // Held at the gate: a status (or, connecting late, the snapshot) at "rendering", then a preview.
    await socket.until((m) => m.type !== "completed" && "stage" in m && m.stage === "rendering");
    const running = await p.api(`/api/generations/${a.id}`, { user: "anna" });
    expect(running.status).toBe(200);
    expect(await edgeAnswer("GET /api/generations/{id}", running)).toEqual([]);

    // The user's one socket is open: the live endpoints refuse a second connection.
    const refusals: [Response, number][] = [
      [await sse(a.id, tokenOf(a.links.events)), 429],
      [await sse(a.id, "not-a-token"), 401],
      [await sse(a.id, tokenOf(a.links.events), { origin: "https://evil.test" }), 403],
      [await sse("not-an-id", tokenOf(a.links.events)), 404],
      [await sse(a.id, tokenOf(a.links.events), { "last-event-id": "x" }), 400],
    ];
    for (const [response, status] of refusals) {
      expect(response.status).toBe(status);
      expect(worker.response("GET /events/generations/{id}", status, await response.json())).toEqual([]);
    }

    const cancel = await p.api(`/api/generations/${a.id}/cancel`, { method: "POST", user: "anna" });
    expect(cancel.status).toBe(202);
    expect(await edgeAnswer("POST /api/generations/{id}/cancel", cancel)).toEqual([]);
    provider.release();
    expect((await socket.closed).code).toBe(1000);
    expect(socket.messages.map((m) => m.type)).toContain("canceled");
    expect(socket.messages.flatMap((m) => worker.schema("ServerMessage", m))).toEqual([]);

    // B fails permanently; C completes.
    const b = (await (await p.submit("anna", { prompt: "refused", width: 256, height: 256 })).json()) as Accepted;
    const failed = await p.waitFor("anna", b.id);
    expect(failed.status).toBe("failed");
    expect(edge.response("GET /api/generations/{id}", 200, failed)).toEqual([]);
    const c = (await (await p.submit("anna", { prompt: "fine", width: 256, height: 256 })).json()) as Accepted;
    expect(edge.response("GET /api/generations/{id}", 200, await p.waitFor("anna", c.id))).toEqual([]);

    const list = await p.api("/api/generations?limit=2", { user: "anna" });
    expect(await edgeAnswer("GET /api/generations", list)).toEqual([]);
    const ended = await p.api(`/api/generations/${c.id}/cancel`, { method: "POST", user: "anna" });
    expect(ended.status).toBe(409);
    expect(await edgeAnswer("POST /api/generations/{id}/cancel", ended)).toEqual([]);

    // SSE of an ended generation: its snapshot as one event, then the stream ends.
    const stream = await sse(b.id, tokenOf(b.links.events));
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toStartWith("text/event-stream");
    const events = (await stream.text()).split("\n").flatMap((l) => (l.startsWith("data:") ? [l.slice(5)] : []));
    expect(events.length).toBe(1);
    expect(events.flatMap((data) => worker.schema("ServerMessage", JSON.parse(data)))).toEqual([]);
  });

  test("every error code the edge answers with, with its documented body and headers", async () => {
    const post = (user: string, body: string, headers: Record<string, string> = {}) =>
      p.api("/api/generations", {
        method: "POST",
        user,
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const cases: [string, Promise<Response>, number][] = [
      ["POST /api/generations", post("bo", JSON.stringify({ prompt: "p", width: 1000 })), 400],
      ["POST /api/generations", fetch(`${p.edgeUrl}/api/generations`, { method: "POST", body: "{}" }), 401],
      ["POST /api/generations", post("bo", JSON.stringify({ prompt: "x".repeat(17 * 1024) })), 413],
      ["POST /api/generations", post("bo", "prompt=p", { "content-type": "text/plain" }), 415],
      ["GET /api/generations", p.api("/api/generations?limit=101", { user: "bo" }), 400],
      ["GET /api/generations/{id}", p.api(`/api/generations/${uuidv7()}`, { user: "bo" }), 404],
    ];
    for (const [operation, pending, status] of cases) {
      const response = await pending;
      expect([operation, response.status]).toEqual([operation, status]);
      expect(await edgeAnswer(operation, response)).toEqual([]);
    }
    let limited: Response | undefined;
    for (let i = 0; i < 6 && limited?.status !== 429; i++)
      limited = await post("cy", JSON.stringify({ prompt: `${i}` }));
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await edgeAnswer("POST /api/generations", limited as Response)).toEqual([]);
  });

  test("the webhook secret call; cross-site cookie posts; per-address limits; a limiter that cannot decide", async () => {
    const secretCall = (init: RequestInit = {}) =>
      p.api("/api/webhook-secret", { method: "POST", user: "ed", ...init });
    const first = await secretCall();
    expect(first.status).toBe(201);
    expect(await edgeAnswer("POST /api/webhook-secret", first)).toEqual([]);
    const rotated = await secretCall({ headers: { "content-type": "application/json" }, body: "{}" });
    expect(rotated.status).toBe(201);
    expect(((await rotated.clone().json()) as { previousValidUntil: string | null }).previousValidUntil).not.toBeNull();
    expect(await edgeAnswer("POST /api/webhook-secret", rotated)).toEqual([]);
    const refused: [Response, number][] = [
      [await secretCall({ headers: { "content-type": "application/json" }, body: '{"graceHours":1}' }), 400],
      [await secretCall({ headers: { "content-type": "text/plain" }, body: "rotate" }), 415],
    ];
    for (const [response, status] of refused) {
      expect(response.status).toBe(status);
      expect(await edgeAnswer("POST /api/webhook-secret", response)).toEqual([]);
    }

    const page = await fetch(`${p.edgeUrl}/`);
    const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const forged = await fetch(`${p.edgeUrl}/api/generations`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: "https://evil.test" },
      body: "prompt=forged",
    });
    expect(forged.status).toBe(403);
    expect(await edgeAnswer("POST /api/generations", forged)).toEqual([]);

    // Every test client is 127.0.0.1: an edge allowing one new session per address soon refuses.
    const strict = p.startEdge({ SESSIONS_PER_IP_PER_HOUR: "1" });
    let visit: Response | undefined;
    for (let i = 0; i < 2 && visit?.status !== 429; i++) visit = await fetch(`${strict}/`);
    expect(visit?.status).toBe(429);
    expect(Number(visit?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await edgeAnswer("GET /", visit as Response)).toEqual([]);

    const blind = p.startEdge({ UPSTASH_REDIS_REST_URL: deadRedisUrl().replace("redis:", "http:") });
    const undecided = await fetch(`${blind}/api/generations`, {
      headers: { authorization: `Bearer ${await p.token("ed")}` },
    });
    expect(undecided.status).toBe(503);
    expect(Number(undecided.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await edgeAnswer("GET /api/generations", undecided)).toEqual([]);
  });

  test("health, the studio page and the document itself", async () => {
    expect(await edgeAnswer("GET /healthz", await fetch(`${p.edgeUrl}/healthz`))).toEqual([]);
    const page = await fetch(`${p.edgeUrl}/`);
    expect([page.status, page.headers.get("content-type")]).toEqual([200, "text/html; charset=UTF-8"]);
    expect((await fetch(`${p.edgeUrl}/openapi.json`)).status).toBe(200);
  });
});

describe("the studio's additions answer as documented", () => {
  test("priority and Cancel-After on submit, logs, a history-only read, the list's filters, delete", async () => {
    const submitted = await p.submit(
      "fay",
      { prompt: "urgent", width: 256, height: 256, priority: "high" },
      { "cancel-after": "5m" },
    );
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.clone().json()) as Accepted;
    expect(await edgeAnswer("POST /api/generations", submitted)).toEqual([]);
    await p.waitFor("fay", id);
    const logs = await p.api(`/api/generations/${id}/logs`, { user: "fay" });
    expect(logs.status).toBe(200);
    expect(await edgeAnswer("GET /api/generations/{id}/logs", logs)).toEqual([]);
    const filtered = await p.api("/api/generations?status=completed,expired&since=2026-01-01", { user: "fay" });
    expect(await edgeAnswer("GET /api/generations", filtered)).toEqual([]);
    const badFilter = await p.api("/api/generations?status=done&until=yesterday", { user: "fay" });
    expect(badFilter.status).toBe(400);
    expect(await edgeAnswer("GET /api/generations", badFilter)).toEqual([]);

    // Once Redis no longer holds it (its 7 days are over), the history answers for it.
    const deadline = Date.now() + 20_000;
    while (!(await p.history.get(id))) {
      if (Date.now() > deadline) throw new Error("never reached the history");
      await Bun.sleep(50);
    }
    await p.redis.send("DEL", [`${p.prefix}gen:${id}`, `${p.prefix}gen:${id}:logs`]);
    const old = await p.api(`/api/generations/${id}`, { user: "fay" });
    expect(((await old.clone().json()) as { seq: number }).seq).toBe(0);
    expect(await edgeAnswer("GET /api/generations/{id}", old)).toEqual([]);
    expect(
      await edgeAnswer("GET /api/generations/{id}/logs", await p.api(`/api/generations/${id}/logs`, { user: "fay" })),
    ).toEqual([]);

    // The internal routes behind it, with and without the service token.
    const internal = `${p.workerInternalUrl}/internal/users/fay/generations`;
    const auth = { authorization: `Bearer ${await mintInternalToken("edge", p.jwtSecret)}` };
    const answers: [string, Response, number][] = [
      [
        "GET /internal/users/{user}/generations",
        await fetch(`${internal}?limit=5&status=completed`, { headers: auth }),
        200,
      ],
      ["GET /internal/users/{user}/generations", await fetch(`${internal}?limit=0`, { headers: auth }), 400],
      ["GET /internal/users/{user}/generations", await fetch(internal), 401],
      ["GET /internal/users/{user}/generations/{id}", await fetch(`${internal}/${id}`, { headers: auth }), 200],
      ["GET /internal/users/{user}/generations/{id}", await fetch(`${internal}/${uuidv7()}`, { headers: auth }), 404],
      [
        "GET /internal/users/{user}/generations/{id}/logs",
        await fetch(`${internal}/${id}/logs`, { headers: auth }),
        200,
      ],
      [
        "DELETE /internal/users/{user}/generations/{id}",
        await fetch(`${internal}/x`, { method: "DELETE", headers: auth }),
        400,
      ],
    ];
    for (const [operation, response, status] of answers) {
      expect([operation, response.status]).toEqual([operation, status]);
      expect(worker.response(operation, status, await response.json())).toEqual([]);
    }

    const deleted = await p.api(`/api/generations/${id}`, { method: "DELETE", user: "fay" });
    expect(deleted.status).toBe(204);
    expect(edge.response("DELETE /api/generations/{id}", 204)).toEqual([]);
    for (const operation of ["GET /api/generations/{id}", "DELETE /api/generations/{id}"] as const) {
      const gone = await p.api(`/api/generations/${id}`, { method: operation.split(" ")[0], user: "fay" });
      expect(gone.status).toBe(404);
      expect(await edgeAnswer(operation, gone)).toEqual([]);
    }
  });
});

describe("the workers answer as docs/openapi.worker.json says", () => {
  test("images, the synchronous fallback and probes", async () => {
    const g = (await (await p.submit("dee", { prompt: "img", width: 256, height: 256 })).json()) as Accepted;
    const done = await p.waitFor("dee", g.id);
    const url = done.image?.url ?? "";
    const image = await fetch(url);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/webp");
    const cached = await fetch(url, { headers: { "if-none-match": image.headers.get("etag") ?? "" } });
    expect(cached.status).toBe(304);
    expect(worker.response("GET /images/{key}", 304)).toEqual([]);
    const base = new URL(url).origin;
    for (const [path, status] of [
      ["/images/zz/nope.webp", 400],
      [`/images/${"a".repeat(2)}/${"a".repeat(64)}.webp`, 404],
    ] as const) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(status);
      expect(worker.response("GET /images/{key}", status, await response.json())).toEqual([]);
    }

    const request = RequestEvent.create({
      id: uuidv7(),
      userId: "dee",
      params: { prompt: "now", style: "noise", width: 256, height: 256, format: "png", seed: 1 },
      createdAt: new Date().toISOString(),
      attempt: 1,
    });
    const internal = p.workerInternalUrl;
    const now = await fetch(`${internal}/internal/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${await mintInternalToken("edge", p.jwtSecret)}` },
      body: JSON.stringify(request),
    });
    expect(now.status).toBe(200);
    expect(worker.response("POST /internal/generations", 200, await now.json())).toEqual([]);
    const refused = await fetch(`${internal}/internal/generations`, { method: "POST", body: "{}" });
    expect(refused.status).toBe(401);
    expect(worker.response("POST /internal/generations", 401, await refused.json())).toEqual([]);

    expect(worker.response("GET /healthz", 200, await (await fetch(`${base}/healthz`)).json())).toEqual([]);
    expect(worker.response("GET /readyz", 200, await (await fetch(`${internal}/readyz`)).json())).toEqual([]);
    expect((await fetch(`${internal}/metrics`)).headers.get("content-type")).toStartWith("text/plain");
  });
});
