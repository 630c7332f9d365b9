/**
 * The worker's internal port against paths a proxy rule would forward as /internal/*: the server
 * resolves dot segments (`/internal/%2e%2e/metrics` is routed as `/metrics`), so nothing behind
 * a route's auth may be reached that way. Raw HTTP over a socket: fetch would normalise the path
 * before sending it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { serveInternal } from "./internal-server.ts";
import { createInternalApp } from "./worker-app.ts";

const METRICS = "pixel_test_metric 1\n";

/** Sends `GET <target>` exactly as written; resolves the status and the body. */
function rawGet(port: number, target: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      const lines = Object.entries({ host: "worker", connection: "close", ...headers }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`GET ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
    });
    let raw = "";
    socket.on("data", (chunk) => {
      raw += chunk;
    });
    socket.on("error", reject);
    socket.on("end", () => {
      const [head = "", ...body] = raw.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), body: body.join("\r\n\r\n") });
    });
  });
}

// What the internal load balancer adds to every request it forwards.
const VIA_PROXY = { "x-forwarded-for": "198.51.100.7" };
const TRAVERSALS = [
  "/internal/%2e%2e/metrics",
  "/internal/../metrics",
  "/internal/.%2e/metrics",
  "/internal/users/%2e%2e/%2e%2e/metrics",
  "/internal/users/u/generations/%2e%2e/%2e%2e/%2e%2e/%2e%2e/metrics",
];

describe("metrics on the internal port", () => {
  const open = serveInternal(
    createInternalApp({
      metrics: () => METRICS,
      notReady: async () => [],
      internal: { secret: "s".repeat(40), generateNow: async () => Promise.reject(new Error("unused")) },
    }),
    { host: "127.0.0.1", port: 0 },
  );
  const tokened = serveInternal(
    createInternalApp({
      metrics: () => METRICS,
      notReady: async () => [],
      internal: { secret: "s".repeat(40), generateNow: async () => Promise.reject(new Error("unused")) },
      metricsToken: "scrape-token-0123456789",
    }),
    { host: "127.0.0.1", port: 0 },
  );
  afterAll(async () => {
    await open.stop(true);
    await tokened.stop(true);
  });

  test("a path forwarded as /internal/* never reaches /metrics; a direct scrape does", async () => {
    for (const target of TRAVERSALS) {
      const answer = await rawGet(open.port ?? 0, target, VIA_PROXY);
      expect({ target, status: answer.status, leaked: answer.body.includes(METRICS) }).toEqual({
        target,
        status: 404,
        leaked: false,
      });
    }
    for (const target of ["//internal/..", "//metrics", "/internal//metrics"]) {
      const answer = await rawGet(open.port ?? 0, target);
      expect({ target, leaked: answer.body.includes(METRICS) }).toEqual({ target, leaked: false });
    }
    const direct = await rawGet(open.port ?? 0, "/metrics");
    expect(direct.status).toBe(200);
    expect(direct.body).toContain(METRICS);
  });

  test("with METRICS_TOKEN, /metrics wants it as a bearer token, by whatever path", async () => {
    const port = tokened.port ?? 0;
    expect((await rawGet(port, "/metrics")).status).toBe(401);
    expect((await rawGet(port, "/internal/%2e%2e/metrics", VIA_PROXY)).status).toBe(401);
    expect((await rawGet(port, "/metrics", { authorization: "Bearer wrong-token-0123456789" })).status).toBe(401);
    const scraped = await rawGet(port, "/metrics", { authorization: "Bearer scrape-token-0123456789" });
    expect(scraped.status).toBe(200);
    expect(scraped.body).toContain(METRICS);
  });
});

describe("the history routes on the internal port", () => {
  let p: Pipeline;
  let port: number;
  beforeAll(async () => {
    p = await startPipeline();
    port = Number(new URL(p.edgeEnv.WORKER_URL ?? "").port);
  });
  afterAll(() => p.stop());

  test("no spelling of a path gets past the service token", async () => {
    const ok = await p.submit("victim", { prompt: "private", width: 256, height: 256 });
    const { id } = (await ok.json()) as { id: string };
    await p.waitFor("victim", id);
    const targets = [
      "/internal/users/victim/generations",
      "//internal/users/victim/generations",
      "/internal//users/victim/generations",
      "/x/../internal/users/victim/generations",
      "/internal/%2e/users/victim/generations",
      "/internal/users/victim/generations/%2e%2e/generations",
      `/internal/users/victim/generations/${id}`,
      `/%2e%2e/internal/users/victim/generations/${id}`,
      `/internal/users/victim/generations/${id}/logs`,
    ];
    for (const target of targets) {
      const answer = await rawGet(port, target, VIA_PROXY);
      expect({ target, leaked: answer.body.includes(id) || answer.status === 200 }).toEqual({
        target,
        leaked: false,
      });
    }
  }, 60_000);
});
