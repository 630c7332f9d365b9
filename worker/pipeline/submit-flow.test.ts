import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redisKeys as redisKeyNames } from "../../shared/redis-keys.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { endOffsetTotal } from "../gateway/gateway-fixtures.ts";
import { readImageInfo } from "../imaging/sharp-image.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ edgeEnv: { RATE_LIMIT_PER_MINUTE: "1000" } });
});
afterAll(() => p.stop());

/** Every key under the pipeline's prefix. */
async function redisKeys(): Promise<Set<string>> {
  let cursor = "0";
  const found = new Set<string>();
  do {
    const [next, keys] = (await p.redis.send("SCAN", [cursor, "MATCH", `${p.prefix}*`, "COUNT", "1000"])) as [
      string,
      string[],
    ];
    for (const key of keys) found.add(key);
    cursor = next;
  } while (cursor !== "0");
  return found;
}

describe("submit → Kafka → worker → image → status", () => {
  test("a submit answers 202 at once and the generation completes with an image of the asked size and format", async () => {
    const response = await p.submit("alice", {
      prompt: "a red fox in snow",
      style: "pixel-art",
      width: 512,
      height: 384,
      format: "png",
      seed: 7,
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as {
      id: string;
      status: string;
      params: Record<string, unknown>;
      links: Record<string, string>;
    };
    expect(response.headers.get("location")).toBe(`/api/generations/${body.id}`);
    expect(body.status).toBe("queued");
    expect(body.params).toEqual({
      prompt: "a red fox in snow",
      style: "pixel-art",
      width: 512,
      height: 384,
      format: "png",
      seed: 7,
    });
    expect(body.links.self).toBe(`/api/generations/${body.id}`);
    expect(body.links.cancel).toBe(`/api/generations/${body.id}/cancel`);
    expect(body.links.events).toStartWith(`${p.liveServers[0]?.url}/ws/generations/${body.id}?token=`);

    const done = await p.waitFor("alice", body.id);
    expect(done).toMatchObject({ id: body.id, status: "completed", stage: "done", progress: 100, attempts: 1 });
    expect(done.image).toMatchObject({ width: 512, height: 384, format: "png" });
    expect(done.startedAt).toBeDefined();
    expect(done.completedAt).toBeDefined();
    expect(done.seq).toBeGreaterThanOrEqual(4);

    const image = await fetch(done.image?.url ?? "");
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/png");
    const bytes = new Uint8Array(await image.arrayBuffer());
    expect(bytes.length).toBe(done.image?.bytes ?? -1);
    expect(await readImageInfo(bytes)).toMatchObject({ width: 512, height: 384, format: "png" });
  });

  test("defaults are applied and a random seed is returned", async () => {
    const response = await p.submit("alice", { prompt: "  lighthouse  " });
    const body = (await response.json()) as { params: Record<string, unknown> };
    expect(body.params).toMatchObject({
      prompt: "lighthouse",
      style: "pixel-art",
      width: 1024,
      height: 1024,
      format: "webp",
    });
    expect(body.params.seed).toBeNumber();
  });

  test("an HTML form body is accepted", async () => {
    const form = new URLSearchParams({
      prompt: "form prompt",
      style: "noise",
      width: "256",
      height: "256",
      format: "jpeg",
    });
    const response = await p.api("/api/generations", { method: "POST", user: "alice", body: form });
    expect(response.status).toBe(202);
    const multipart = new FormData();
    multipart.set("prompt", "multipart prompt");
    multipart.set("width", "320");
    const second = await p.api("/api/generations", { method: "POST", user: "alice", body: multipart });
    expect(second.status).toBe(202);
    expect(((await second.json()) as { params: { width: number } }).params.width).toBe(320);
  });

  test("a user sees only their own generations; list is newest first with a cursor", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await p.submit("bob", { prompt: `bob ${i}`, width: 256, height: 256 });
      ids.push(((await r.json()) as { id: string }).id);
    }
    expect((await p.api(`/api/generations/${ids[0]}`, { user: "carol" })).status).toBe(404);
    const page1 = (await (await p.api("/api/generations?limit=2", { user: "bob" })).json()) as {
      items: GenerationSnapshot[];
      nextCursor: string | null;
    };
    expect(page1.items.map((g) => g.id)).toEqual([ids[2] ?? "", ids[1] ?? ""]);
    expect(page1.nextCursor).toBe(ids[1] ?? "");
    const page2 = (await (
      await p.api(`/api/generations?limit=2&cursor=${page1.nextCursor}`, { user: "bob" })
    ).json()) as {
      items: GenerationSnapshot[];
      nextCursor: string | null;
    };
    expect(page2.items.map((g) => g.id)).toEqual([ids[0] ?? ""]);
    expect(page2.nextCursor).toBeNull();
    const carol = (await (await p.api("/api/generations", { user: "carol" })).json()) as { items: unknown[] };
    expect(carol.items).toEqual([]);
  });

  test("the same Idempotency-Key returns the first response and produces nothing new", async () => {
    const before = await endOffsetTotal(p.kafka, p.topics.requests.name);
    const first = await p.submit("dave", { prompt: "once" }, { "idempotency-key": "key-1" });
    const second = await p.submit("dave", { prompt: "once" }, { "idempotency-key": "key-1" });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    const a = (await first.json()) as { id: string };
    const b = (await second.json()) as { id: string };
    expect(b.id).toBe(a.id);
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(before + 1);
    // Another user with the same key is a different request.
    const other = await p.submit("erin", { prompt: "once" }, { "idempotency-key": "key-1" });
    expect(((await other.json()) as { id: string }).id).not.toBe(a.id);
  });

  test("cancel of an ended generation answers 409", async () => {
    const r = await p.submit("frank", { prompt: "quick", width: 256, height: 256 });
    const { id } = (await r.json()) as { id: string };
    await p.waitFor("frank", id);
    const cancel = await p.api(`/api/generations/${id}/cancel`, { method: "POST", user: "frank" });
    expect(cancel.status).toBe(409);
    expect(((await cancel.json()) as { error: { code: string } }).error.code).toBe("conflict");
  });

  test("every bad input is answered as docs/api.md says, and nothing reaches Kafka or Redis", async () => {
    const offsets = await endOffsetTotal(p.kafka, p.topics.requests.name);
    const keys = await redisKeys();
    const token = await p.token("mallory");
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${p.edgeUrl}/api/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
        body,
      });
    const cases: [Promise<Response>, number, string, string?][] = [
      [post(JSON.stringify({})), 400, "invalid_request", "prompt"],
      [post(JSON.stringify({ prompt: "   " })), 400, "invalid_request", "prompt"],
      [post(JSON.stringify({ prompt: "x".repeat(1001) })), 400, "invalid_request", "prompt"],
      [post(JSON.stringify({ prompt: "p", style: "oil" })), 400, "invalid_request", "style"],
      [post(JSON.stringify({ prompt: "p", width: 1000 })), 400, "invalid_request", "width"],
      [post(JSON.stringify({ prompt: "p", height: 4096 })), 400, "invalid_request", "height"],
      [post(JSON.stringify({ prompt: "p", format: "gif" })), 400, "invalid_request", "format"],
      [post(JSON.stringify({ prompt: "p", seed: -1 })), 400, "invalid_request", "seed"],
      [
        post(JSON.stringify({ prompt: "p", webhookUrl: "http://example.com/hook" })),
        400,
        "invalid_request",
        "webhookUrl",
      ],
      [
        post(JSON.stringify({ prompt: "p", webhookUrl: "https://127.0.0.1/hook" })),
        400,
        "invalid_request",
        "webhookUrl",
      ],
      [post(JSON.stringify({ prompt: "p", colour: "red" })), 400, "invalid_request", "colour"],
      [post("{not json"), 400, "invalid_request"],
      [post(JSON.stringify({ prompt: "p" }), { "idempotency-key": "" }), 400, "invalid_request", "Idempotency-Key"],
      [post(JSON.stringify({ prompt: "x".repeat(17 * 1024) })), 413, "payload_too_large"],
      [post("prompt=p", { "content-type": "text/plain" }), 415, "unsupported_media_type"],
      [fetch(`${p.edgeUrl}/api/generations`, { method: "POST", body: "{}" }), 401, "unauthorized"],
      [post(JSON.stringify({ prompt: "p" }), { authorization: "Bearer nope" }), 401, "unauthorized"],
      [p.api("/api/generations/not-an-id", { user: "mallory" }), 404, "not_found"],
      [p.api("/api/generations/0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", { user: "mallory" }), 404, "not_found"],
      [
        p.api("/api/generations/0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b/cancel", { method: "POST", user: "mallory" }),
        404,
        "not_found",
      ],
      [p.api("/api/generations?limit=0", { user: "mallory" }), 400, "invalid_request", "limit"],
      [p.api("/api/generations?cursor=zzz", { user: "mallory" }), 400, "invalid_request", "cursor"],
    ];
    for (const [pending, status, code, field] of cases) {
      const response = await pending;
      const body = (await response.json()) as {
        error: { code: string; message: string; details?: { path: string }[] };
      };
      expect([response.status, body.error.code]).toEqual([status, code]);
      expect(body.error.message.length).toBeGreaterThan(0);
      if (field) expect(body.error.details?.map((d) => d.path)).toContain(field);
    }
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(offsets);
    // No key was created. Keys may go meanwhile (leases lapse, an earlier test's generation is
    // tidied up: a count of keys once fell by one here), and the rate limiter counts every read,
    // bad or not, in windows whose keys come and go on their own.
    const limits = redisKeyNames(p.prefix).rateLimit();
    expect([...(await redisKeys())].filter((key) => !keys.has(key) && !key.startsWith(limits))).toEqual([]);
  });
});
