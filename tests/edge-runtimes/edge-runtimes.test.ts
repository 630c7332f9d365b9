/**
 * One smoke suite, run against the edge on each runtime it ships to: Bun, workerd (the Workers
 * runtime, serving the bundle `wrangler deploy` uploads) and Deno. Each edge is its own process
 * serving HTTP, wired to the real Kafka REST gateway and Redis REST bridge of one pipeline
 * (fresh topics and keys, a real worker), so generations really complete.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { STUDIO_SCRIPT, STUDIO_STYLE } from "../../edge/studio/studio-bundle.ts";
import { API_ERRORS } from "../../shared/api-errors.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { type Pipeline, startPipeline } from "../../worker/testing/pipeline-harness.ts";
import { scriptedProvider } from "../../worker/testing/scripted-provider.ts";
import { EDGE_RUNTIMES, type EdgeProcess, launchEdge, startEdge, waitUntilServing } from "./edge-process.ts";

type Accepted = { id: string; status: string; links: { self: string; events: string; cancel: string } };
type ApiErrorBody = { error: { code: string; message: string; details?: { path: string }[] } };

let p: Pipeline;
// Generations run for real; a test that needs one held mid-way queues a gate step first.
const provider = scriptedProvider([]);
beforeAll(async () => {
  p = await startPipeline({ provider });
});
afterAll(() => p?.stop());

describe.each(EDGE_RUNTIMES)("the edge on %s", (runtime) => {
  let edge: EdgeProcess;
  const user = `smoke-${runtime}-${crypto.randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    edge = await startEdge(runtime, p.edgeEnv);
  });
  afterAll(() => edge?.stop());

  async function call(path: string, init: RequestInit & { as?: string } = {}) {
    const headers = new Headers(init.headers);
    if (init.as) headers.set("authorization", `Bearer ${await p.token(init.as)}`);
    return fetch(`${edge.url}${path}`, { ...init, headers });
  }
  const submit = (body: unknown, as = user) =>
    call("/api/generations", {
      method: "POST",
      as,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  /** Polls GET until `until` holds; as `user`, or with the credentials in `headers`. */
  async function waitFor(id: string, until: (g: GenerationSnapshot) => boolean, headers?: Record<string, string>) {
    let last: GenerationSnapshot | undefined;
    for (let i = 0; i < 600; i++) {
      const response = await call(`/api/generations/${id}`, headers ? { headers } : { as: user });
      expect(response.status).toBe(200);
      last = (await response.json()) as GenerationSnapshot;
      if (until(last)) return last;
      await Bun.sleep(50);
    }
    throw new Error(`generation ${id} on ${runtime} never matched; last seen ${JSON.stringify(last)}`);
  }

  test("submit answers 202 with links; GET follows it to an image; the list shows it", async () => {
    const response = await submit({ prompt: `a fox on ${runtime}`, width: 256, height: 256, format: "png" });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Accepted;
    expect(body.status).toBe("queued");
    expect(response.headers.get("location")).toBe(`/api/generations/${body.id}`);
    expect(body.links.self).toBe(`/api/generations/${body.id}`);
    expect(body.links.cancel).toBe(`/api/generations/${body.id}/cancel`);
    expect(body.links.events).toStartWith(`${p.liveServers[0]?.url}/ws/generations/${body.id}?token=`);

    const done = await waitFor(body.id, (g) => g.status === "completed");
    expect(done.image).toMatchObject({ width: 256, height: 256, format: "png" });

    const list = await call("/api/generations?limit=10", { as: user });
    expect(list.status).toBe(200);
    const { items } = (await list.json()) as { items: GenerationSnapshot[] };
    expect(items.map((g) => g.id)).toContain(body.id);
    expect(items.find((g) => g.id === body.id)?.status).toBe("completed");
  });

  test("cancel stops a generation in progress; another user cannot see it", async () => {
    provider.script.push({ kind: "gate" });
    const { id } = (await (await submit({ prompt: "held", width: 256, height: 256 })).json()) as Accepted;
    await waitFor(id, (g) => g.status === "processing" && g.stage === "rendering");
    expect((await call(`/api/generations/${id}`, { as: `${user}-other` })).status).toBe(404);

    const cancel = await call(`/api/generations/${id}/cancel`, { method: "POST", as: user });
    expect(cancel.status).toBe(202);
    expect(((await cancel.json()) as GenerationSnapshot).id).toBe(id);
    provider.release();
    expect((await waitFor(id, (g) => g.status !== "processing")).status).toBe("canceled");
  });

  test("401 without credentials and with a token signed by another secret", async () => {
    const none = await call("/api/generations");
    expect(none.status).toBe(401);
    expect(((await none.json()) as ApiErrorBody).error.code).toBe("unauthorized");
    const forged = await call("/api/generations", {
      headers: {
        authorization:
          "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtYWxsb3J5In0.dGhpcyBpcyBub3QgYSB2YWxpZCBzaWduYXR1cmU",
      },
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as ApiErrorBody).error.code).toBe("unauthorized");
  });

  test("400 names every invalid field; malformed JSON is a 400 too", async () => {
    const invalid = await submit({ prompt: "", width: 100 });
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as ApiErrorBody;
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.details?.map((d) => d.path).sort()).toEqual(["prompt", "width"]);

    const malformed = await call("/api/generations", {
      method: "POST",
      as: user,
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as ApiErrorBody).error.code).toBe("invalid_request");
  });

  test("413 for a body over the limit, before it is read", async () => {
    const response = await submit({ prompt: "x".repeat(20_000) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as ApiErrorBody).error.code).toBe("payload_too_large");
  });

  test("GET /openapi.json serves the contract", async () => {
    const response = await call("/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toStartWith("3.1");
    expect(Object.keys(document.paths)).toContain("/api/generations");
  });

  test("GET / serves the studio page with a session cookie that can submit its form", async () => {
    const page = await call("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    const html = await page.text();
    expect(html).toContain('<textarea name="prompt"');
    // The prebuilt browser bundle, inline and run by this response's nonce alone.
    const nonce = /script-src 'nonce-([^']+)'/.exec(page.headers.get("content-security-policy") ?? "")?.[1];
    expect(html).toContain(`<script nonce="${nonce}">${STUDIO_SCRIPT}</script>`);
    expect(html).toContain(`<style nonce="${nonce}">${STUDIO_STYLE}</style>`);
    const cookie = page.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^ps_session=[^;]+;.*HttpOnly/);

    const session = { cookie: cookie.split(";")[0] ?? "" };
    const post = (headers: Record<string, string>) =>
      call("/api/generations", {
        method: "POST",
        headers: { ...session, "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams({ prompt: "from the form", width: "256", height: "256" }).toString(),
      });
    // A form post riding the cookie must come from the studio's origin (STUDIO_ORIGIN), as the browser says.
    const forged = await post({ origin: "https://elsewhere.example" });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as ApiErrorBody).error.code).toBe("forbidden");
    const form = await post({ origin: edge.url });
    expect(form.status).toBe(202);
    const { id } = (await form.json()) as Accepted;
    expect((await waitFor(id, (g) => g.status === "completed", session)).params.prompt).toBe("from the form");
  });
});

describe.each(EDGE_RUNTIMES)("a bad setting on %s", (runtime) => {
  test("is named, value unsaid, and nothing is served with it", async () => {
    const edge = launchEdge(runtime, { ...p.edgeEnv, AUTH_JWT_SECRET: "too-short-secret" });
    const problem = "AUTH_JWT_SECRET must be at least 32 characters long";
    try {
      if (runtime === "workerd") {
        // A Worker cannot exit: it answers 503 with the fixed public message and logs why.
        await waitUntilServing(edge);
        const response = await fetch(`${edge.url}/api/generations`);
        expect(response.status).toBe(503);
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(await response.json()).toEqual({
          error: { code: "unavailable", message: API_ERRORS.unavailable.message },
        });
        // workerd's log reaches its host's output a moment after the response.
        for (let i = 0; i < 100 && !edge.output().includes(problem); i++) await Bun.sleep(50);
      } else expect(await edge.exited).toBe(1);
    } finally {
      await edge.stop();
    }
    expect(edge.output()).toContain(problem);
    expect(edge.output()).not.toContain("too-short-secret");
  });
});
