/**
 * `GET /healthz` needs no credentials, so it must not turn a flood of requests into as many calls
 * on Redis and the Kafka REST gateway. The edge runs against the real pipeline through counting
 * pass-through proxies (each forwards to the real bridge or gateway), which count what reaches
 * the dependencies.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { type Pipeline, startPipeline } from "../worker/testing/pipeline-harness.ts";

let p: Pipeline;
const proxies: Server<undefined>[] = [];
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  for (const proxy of proxies) await proxy.stop(true);
  await p.stop();
});

/** Forwards every request to `target`; `count()` is how many it forwarded. */
function countingProxy(target: string) {
  let forwarded = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      forwarded++;
      const url = new URL(request.url);
      const upstream = await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
      });
      return new Response(await upstream.arrayBuffer(), { status: upstream.status, headers: upstream.headers });
    },
  });
  proxies.push(server);
  return { url: `http://127.0.0.1:${server.port}`, count: () => forwarded };
}

test("a burst of 200 /healthz requests costs the dependencies a few probes, not 200 each", async () => {
  const redis = countingProxy(p.edgeEnv.UPSTASH_REDIS_REST_URL ?? "");
  const kafkaRest = countingProxy(p.edgeEnv.KAFKA_REST_URL ?? "");
  const edge = p.startEdge({ UPSTASH_REDIS_REST_URL: redis.url, KAFKA_REST_URL: kafkaRest.url });

  const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(`${edge}/healthz`)));
  for (let i = 0; i < 100; i++) answers.push(await fetch(`${edge}/healthz`));
  expect(answers.every((r) => r.status === 200)).toBe(true);
  // One probe per dependency per cache period; the burst takes far less than ten periods.
  expect(redis.count()).toBeLessThan(10);
  expect(kafkaRest.count()).toBeLessThan(10);
  expect(redis.count()).toBeGreaterThan(0);
});
