/**
 * The smaller abuse cases at the edge, on the real pipeline: CSRF on cookie form posts, the
 * session cookie, the nonce CSP, hashed idempotency keys, fixed public error messages, refused
 * prototype keys, and tokens of one purpose refused for another.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { API_ERRORS, type ApiErrorCode } from "../shared/api-errors.ts";
import { mintEventToken } from "../shared/auth/event-token.ts";
import { signJwt } from "../shared/auth/jwt.ts";
import { PipelineError } from "../shared/errors.ts";
import { GENERATION_ERROR_MESSAGES } from "../shared/job-states.ts";
import { endOffsetTotal } from "../worker/gateway/gateway-fixtures.ts";
import type { GenerationProvider } from "../worker/generation/provider.ts";
import { type Pipeline, startPipeline } from "../worker/testing/pipeline-harness.ts";
import { SESSION_TTL_SECONDS } from "./auth.ts";

// Fails the way a misconfigured store does, with a path and a host in its message.
const leaky: GenerationProvider = {
  name: "leaky",
  generate: async () => {
    throw new PipelineError(
      "storage_error",
      "EACCES: permission denied, open '/srv/pixel/images/a.webp' via 10.0.0.7:9000",
    );
  },
};

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ provider: leaky });
});
afterAll(() => p.stop());

const sessionCookie = async (edge = p.edgeUrl) => {
  const response = await fetch(`${edge}/`);
  return { response, cookie: (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "" };
};
const errorOf = async (response: Response) =>
  (
    (await response.json()) as {
      error: { code: string; message: string; details?: { path: string; message?: string }[] };
    }
  ).error;

describe("CSRF: cookie-authenticated form posts", () => {
  test("a cross-site form post riding the session cookie is refused (403) and produces nothing", async () => {
    const { cookie } = await sessionCookie();
    const offsets = await endOffsetTotal(p.kafka, p.topics.requests.name);
    const form = (headers: Record<string, string>) =>
      fetch(`${p.edgeUrl}/api/generations`, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
        body: "prompt=csrf&width=256&height=256",
      });
    const crossSite: Record<string, string>[] = [
      { origin: "https://evil.example" },
      {},
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of crossSite) {
      const response = await form(headers);
      expect(response.status).toBe(403);
      expect((await errorOf(response)).code).toBe("forbidden");
    }
    const cancel = await fetch(`${p.edgeUrl}/api/generations/0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b/cancel`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    expect(cancel.status).toBe(403);
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(offsets);
    // From the studio's own origin the same form is accepted.
    expect((await form({ origin: p.studioOrigin })).status).toBe(202);
  });

  test("bearer-token clients are not asked for an Origin", async () => {
    const response = await p.api("/api/generations", {
      method: "POST",
      user: "curl-user",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "prompt=from+a+script&width=256&height=256",
    });
    expect(response.status).toBe(202);
  });
});

describe("session cookie", () => {
  test("plain-http studio (local): HttpOnly, SameSite=Lax, a week long", async () => {
    const { response } = await sessionCookie();
    const header = response.headers.get("set-cookie") ?? "";
    expect(header).toStartWith("ps_session=");
    expect(header).toContain(`Max-Age=${7 * 24 * 3600}`);
    expect(header).toContain("HttpOnly");
    expect(header).toContain("SameSite=Lax");
  });

  test("https studio behind a TLS proxy: __Host- prefix and Secure although the edge sees http", async () => {
    const edge = p.startEdge({ STUDIO_ORIGIN: "https://studio.example.com" });
    const { response, cookie } = await sessionCookie(edge);
    const header = response.headers.get("set-cookie") ?? "";
    expect(header).toStartWith("__Host-ps_session=");
    expect(header).toContain("Secure");
    expect(header).toContain("Path=/");
    expect(header).not.toContain("Domain");
    // The cookie authenticates API calls from that origin.
    const list = await fetch(`${edge}/api/generations`, { headers: { cookie } });
    expect(list.status).toBe(200);
  });

  test("a session past half its life is renewed for the same user; a fresh one is left alone", async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = await signJwt(
      { sub: "anon-old", iat: now, exp: now + SESSION_TTL_SECONDS / 4 },
      p.jwtSecret,
      "session",
    );
    const renewed = await fetch(`${p.edgeUrl}/`, { headers: { cookie: `ps_session=${old}` } });
    const value = /ps_session=([^;]+)/.exec(renewed.headers.get("set-cookie") ?? "")?.[1] ?? "";
    const claims = JSON.parse(Buffer.from(value.split(".")[1] ?? "", "base64url").toString()) as {
      sub: string;
      exp: number;
    };
    expect(claims.sub).toBe("anon-old");
    expect(claims.exp).toBeGreaterThan(now + SESSION_TTL_SECONDS - 60);
    const { cookie } = await sessionCookie();
    const again = await fetch(`${p.edgeUrl}/`, { headers: { cookie } });
    expect(again.headers.get("set-cookie")).toBeNull();
  });
});

test("CSP: script and style run by a per-response nonce, never 'unsafe-inline'", async () => {
  const pages = await Promise.all([fetch(`${p.edgeUrl}/`), fetch(`${p.edgeUrl}/`)]);
  const nonces: string[] = [];
  for (const page of pages) {
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).not.toContain("unsafe-inline");
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1] ?? "";
    expect(nonce.length).toBeGreaterThanOrEqual(16);
    expect(csp).toContain(`style-src 'nonce-${nonce}'`);
    const html = await page.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html.match(/<script/g)).toHaveLength(1);
    nonces.push(nonce);
  }
  expect(nonces[0]).not.toBe(nonces[1]);
});

test("idempotency keys of users whose ids contain ':' do not collide", async () => {
  const post = (user: string, key: string) =>
    p.submit(user, { prompt: "same key?", width: 256, height: 256 }, { "idempotency-key": key });
  const first = await post("a:b", "c");
  const second = await post("a", "b:c");
  expect([first.status, second.status]).toEqual([202, 202]);
  expect(second.headers.get("idempotent-replayed")).toBeNull();
  const [one, two] = (await Promise.all([first.json(), second.json()])) as { id: string }[];
  expect(one?.id).not.toBe(two?.id);
});

test("prototype keys are unknown fields, in JSON and in forms", async () => {
  const cases: [string, string, string][] = [
    ["application/json", '{"prompt":"x","__proto__":{"admin":true}}', "__proto__"],
    ["application/json", '{"prompt":"x","constructor":{"a":1}}', "constructor"],
    ["application/x-www-form-urlencoded", "prompt=x&__proto__=1", "__proto__"],
  ];
  for (const [type, body, field] of cases) {
    const response = await p.api("/api/generations", {
      method: "POST",
      user: "proto",
      headers: { "content-type": type },
      body,
    });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).details?.map((d) => d.path)).toContain(field);
  }
});

describe("fixed public messages; details only in logs", () => {
  test("a generation failing with a path and a host in its error shows only the code's message", async () => {
    const response = await p.submit("leak", { prompt: "fail please", width: 256, height: 256 });
    const { id } = (await response.json()) as { id: string };
    const done = await p.waitFor("leak", id);
    expect(done.error).toEqual({
      code: "storage_error",
      message: GENERATION_ERROR_MESSAGES.storage_error,
      retryable: false,
    });
    expect(JSON.stringify(done)).not.toMatch(/srv|10\.0\.0\.7|EACCES/);
  });

  test("edge errors carry the code's one message, not what went wrong inside", async () => {
    const cases: [Promise<Response>, ApiErrorCode][] = [
      [fetch(`${p.edgeUrl}/api/generations`, { headers: { authorization: "Bearer x.y.z" } }), "unauthorized"],
      [p.api("/api/nothing/here", { user: "u" }), "not_found"],
      [p.api("/api/generations/0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", { user: "u" }), "not_found"],
    ];
    for (const [pending, code] of cases) {
      const error = await errorOf(await pending);
      expect(error).toEqual({ code, message: API_ERRORS[code].message });
    }
  });

  test("a body that does not parse: the fixed message, and what is wrong with the body in details", async () => {
    const bodies: [string, string, string][] = [
      ["application/json", '{"prompt":', "is not valid JSON"],
      ["multipart/form-data; boundary=x", "not a multipart body", "is not a valid form"],
    ];
    for (const [type, body, problem] of bodies) {
      const response = await p.api("/api/generations", {
        method: "POST",
        user: "u",
        headers: { "content-type": type },
        body,
      });
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toEqual({
        code: "invalid_request",
        message: API_ERRORS.invalid_request.message,
        details: [{ path: "", message: problem }],
      });
    }
  });
});

test("a token minted for one purpose is refused for another at the API", async () => {
  const { cookie } = await sessionCookie();
  const sessionToken = cookie.split("=")[1] ?? "";
  const eventToken = await mintEventToken("u", "0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", p.jwtSecret);
  for (const token of [sessionToken, eventToken]) {
    const response = await fetch(`${p.edgeUrl}/api/generations`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
  }
});
