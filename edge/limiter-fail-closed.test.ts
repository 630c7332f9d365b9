/**
 * The rate limiter never fails open. A real Redis made slow (its own redis-server, paused with
 * CLIENT PAUSE, behind the real REST bridge) and an unreachable one both get 503 + Retry-After,
 * and nothing is produced; once Redis answers again, submissions pass.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { endOffsetTotal } from "../worker/gateway/gateway-fixtures.ts";
import { createRedis, type Redis } from "../worker/redis/redis-client.ts";
import { deadRedisUrl } from "../worker/redis/redis-test-env.ts";
import { createRedisRestBridge } from "../worker/redis-bridge/redis-rest-bridge.ts";
import { silentLogger } from "../worker/testing/kafka-test-env.ts";
import { freePort, type Pipeline, startPipeline } from "../worker/testing/pipeline-harness.ts";

let p: Pipeline;
let redisServer: Subprocess;
let dir: string;
let slowUrl: string;
let direct: Redis;
let bridgeStop: () => Promise<void>;
let slowBridgeUrl = "";
const token = "t".repeat(40);

beforeAll(async () => {
  p = await startPipeline({ workers: 0 });
  dir = mkdtempSync(join(tmpdir(), "slow-redis-"));
  const port = freePort();
  redisServer = Bun.spawn(
    [
      Bun.which("redis-server") ?? "redis-server",
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  slowUrl = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      direct = await createRedis(slowUrl);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(50);
    }
  }
  const redis = await createRedis(slowUrl);
  const bridge = createRedisRestBridge({
    redis,
    openTransactionConnection: () => createRedis(slowUrl),
    token,
    logger: silentLogger,
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: bridge.app.fetch });
  bridgeStop = async () => {
    await server.stop(true);
    bridge.close();
    redis.close();
  };
  slowBridgeUrl = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await bridgeStop();
  direct.close();
  redisServer.kill("SIGKILL");
  await redisServer.exited;
  rmSync(dir, { recursive: true, force: true });
  await p.stop();
});

const submit = async (edge: string) =>
  fetch(`${edge}/api/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${await p.token("limited")}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt: "p", width: 256, height: 256 }),
  });

test("Redis slower than the limiter's timeout: 503 with Retry-After, nothing produced; passes once Redis answers", async () => {
  const edge = p.startEdge({ UPSTASH_REDIS_REST_URL: slowBridgeUrl, UPSTASH_REDIS_REST_TOKEN: token });
  const offsets = await endOffsetTotal(p.kafka, p.topics.requests.name);
  await direct.send("CLIENT", ["PAUSE", "3000", "ALL"]);
  const response = await submit(edge);
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unavailable");
  expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(offsets);
  // The pause ends; the same request now passes the limiter.
  await direct.send("PING", []);
  expect((await submit(edge)).status).toBe(202);
});

test("Redis unreachable: 503 with Retry-After", async () => {
  const edge = p.startEdge({
    UPSTASH_REDIS_REST_URL: deadRedisUrl().replace("redis:", "http:"),
    UPSTASH_REDIS_REST_TOKEN: token,
  });
  const response = await submit(edge);
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
});
