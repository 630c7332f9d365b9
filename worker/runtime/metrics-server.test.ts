import { expect, test } from "bun:test";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { METRICS_PORT_OFFSETS, metricsPort, serveMetrics } from "./metrics-server.ts";

const metricsConfig = (env: Record<string, string>) => parseConfig({ METRICS_PORT: "0", ...env }, ["metrics"]).metrics;

test("each process has its own fixed port above METRICS_PORT; worker instances one each", () => {
  expect(metricsPort(9400, "kafka-rest-gateway")).toBe(9400);
  expect(metricsPort(9400, "edge")).toBe(9404);
  expect(metricsPort(9400, "worker", 1)).toBe(9411);
  expect(metricsPort(9400, "worker", 2)).toBe(9412);
  expect(metricsPort(0, "worker", 2)).toBe(0);
  const offsets = Object.values(METRICS_PORT_OFFSETS);
  expect(new Set(offsets).size).toBe(offsets.length);
});

test("serves /metrics on loopback and nothing else", async () => {
  const server = serveMetrics({
    config: metricsConfig({}),
    role: "worker",
    render: () => "pixel_up 1\n",
    logger: silentLogger,
  });
  try {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const ok = await fetch(server.url);
    expect(ok.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    expect(await ok.text()).toBe("pixel_up 1\n");
    expect((await fetch(server.url.replace("/metrics", "/"))).status).toBe(404);
    expect((await fetch(server.url, { method: "POST" })).status).toBe(404);
  } finally {
    server.stop();
  }
});

test("with METRICS_TOKEN a scrape must present it", async () => {
  const token = "a-long-scrape-token-0123456789";
  const server = serveMetrics({
    config: metricsConfig({ METRICS_TOKEN: token }),
    role: "edge",
    render: () => "pixel_up 1\n",
    logger: silentLogger,
  });
  try {
    expect((await fetch(server.url)).status).toBe(401);
    expect((await fetch(server.url, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(server.url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  } finally {
    server.stop();
  }
});

test("refuses to listen beyond loopback without a token", () => {
  expect(() =>
    serveMetrics({
      config: metricsConfig({ METRICS_HOST: "0.0.0.0" }),
      role: "edge",
      render: () => "",
      logger: silentLogger,
    }),
  ).toThrow("set METRICS_TOKEN");
});

test("a taken metrics port moves the listener to a free one instead of stopping the process", async () => {
  const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not metrics") });
  const base = (squatter.port ?? 0) - METRICS_PORT_OFFSETS.edge;
  const server = serveMetrics({
    config: metricsConfig({ METRICS_PORT: String(base) }),
    role: "edge",
    render: () => "pixel_up 1\n",
    logger: silentLogger,
  });
  try {
    expect(server.url).not.toContain(`:${squatter.port}/`);
    expect(await (await fetch(server.url)).text()).toBe("pixel_up 1\n");
  } finally {
    server.stop();
    squatter.stop(true);
  }
});
