/**
 * Each dependency of the edge away, one at a time, with the edge as its own process (`bun
 * edge/entry-bun.ts`): the Kafka REST gateway, the Redis REST endpoint, and Redis behind it (a
 * redis-server of this test's own, killed). Every answer is 503 with Retry-After — never 500 — and
 * a refused submit leaves no trace: nothing produced, and its Idempotency-Key free for the retry. A
 * request Kafka takes after the edge gave up on it is dropped, never shown.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { redisKeys } from "../shared/redis-keys.ts";
import { uuidv7 } from "../shared/uuid7.ts";
import { type EdgeProcess, startEdge } from "../tests/edge-runtimes/edge-process.ts";
import { endOffsetTotal } from "../worker/gateway/gateway-fixtures.ts";
import { createRedis } from "../worker/redis/redis-client.ts";
import { createRedisRestBridge } from "../worker/redis-bridge/redis-rest-bridge.ts";
import { silentLogger } from "../worker/testing/kafka-test-env.ts";
import { freePort, type Pipeline, startPipeline } from "../worker/testing/pipeline-harness.ts";
import { type PrivateRedis, startPrivateRedis } from "../worker/testing/private-redis.ts";
import { createEdgeApp } from "./app.ts";
import { buildEdgeDeps } from "./build-deps.ts";
import { createGenerationStore } from "./generation-store.ts";
import { createUpstashRedis } from "./upstash-clients.ts";
import { createWebhookSecrets } from "./webhook-secrets.ts";

let p: Pipeline;
let ownRedis: PrivateRedis;
let ownBridgeUrl = "";
let stopOwnBridge: () => Promise<void>;
const edges: EdgeProcess[] = [];
const token = "b".repeat(40);
/** A port nothing listens on: a dependency that is not there at all. */
const closed = () => `http://127.0.0.1:${freePort()}`;
/** How long the edge waits for a produce (kafka-rest-producer.ts). */
const EDGE_PRODUCE_DEADLINE_MS = 5000;

beforeAll(async () => {
  p = await startPipeline({ workers: 0 });
  ownRedis = await startPrivateRedis();
  const redis = await createRedis(ownRedis.url);
  const bridge = createRedisRestBridge({
    redis,
    openTransactionConnection: () => createRedis(ownRedis.url),
    token,
    logger: silentLogger,
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: bridge.app.fetch });
  ownBridgeUrl = `http://127.0.0.1:${server.port}`;
  stopOwnBridge = async () => {
    await server.stop(true);
    bridge.close();
    redis.close();
  };
}, 60_000);
afterAll(async () => {
  await Promise.all(edges.map((edge) => edge.stop()));
  await stopOwnBridge();
  await ownRedis.stop();
  await p.stop();
});

/** The edge as a process of its own with `env` over the pipeline's; resolves its URL once it answers. */
async function startEdgeProcess(env: Record<string, string>): Promise<string> {
  const edge = await startEdge("bun", { ...p.edgeEnv, METRICS_PORT: "0", ...env });
  edges.push(edge);
  return edge.url;
}

const submit = async (edge: string, user: string, key: string) =>
  fetch(`${edge}/api/generations`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await p.token(user)}`,
      "content-type": "application/json",
      "idempotency-key": key,
    },
    body: JSON.stringify({ prompt: "a lighthouse", width: 256, height: 256 }),
  });
const read = async (edge: string, user: string, path: string) =>
  fetch(`${edge}${path}`, { headers: { authorization: `Bearer ${await p.token(user)}` } });

async function expectOutageAnswer(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unavailable");
}

/** The refused submit left nothing: the same Idempotency-Key is a fresh 202, not a replay or a 409. */
async function expectNoTrace(user: string, key: string, produced: number): Promise<void> {
  expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(produced);
  const retried = await submit(p.edgeUrl, user, key);
  expect(retried.status).toBe(202);
  expect(retried.headers.get("idempotent-replayed")).toBeNull();
}

test("Kafka REST gateway unreachable: submit 503 + Retry-After, no trace; reads still answer", async () => {
  const edge = await startEdgeProcess({ KAFKA_REST_URL: closed() });
  const produced = await endOffsetTotal(p.kafka, p.topics.requests.name);
  const key = crypto.randomUUID();
  await expectOutageAnswer(await submit(edge, "gateway-away", key));
  expect((await read(edge, "gateway-away", "/api/generations")).status).toBe(200);
  await expectNoTrace("gateway-away", key, produced);
}, 60_000);

test("Redis REST endpoint unreachable: submit, list and get answer 503 + Retry-After, no trace", async () => {
  const edge = await startEdgeProcess({ UPSTASH_REDIS_REST_URL: closed() });
  const produced = await endOffsetTotal(p.kafka, p.topics.requests.name);
  const key = crypto.randomUUID();
  await expectOutageAnswer(await submit(edge, "rest-away", key));
  await expectOutageAnswer(await read(edge, "rest-away", "/api/generations"));
  await expectOutageAnswer(await read(edge, "rest-away", `/api/generations/${crypto.randomUUID()}`));
  await expectNoTrace("rest-away", key, produced);
}, 60_000);

test("Redis behind the REST endpoint down (and the limiter with it): 503 + Retry-After, no trace; back when Redis is", async () => {
  const edge = await startEdgeProcess({ UPSTASH_REDIS_REST_URL: ownBridgeUrl, UPSTASH_REDIS_REST_TOKEN: token });
  expect((await submit(edge, "redis-away", crypto.randomUUID())).status).toBe(202);
  const produced = await endOffsetTotal(p.kafka, p.topics.requests.name);
  await ownRedis.kill();
  const key = crypto.randomUUID();
  await expectOutageAnswer(await submit(edge, "redis-away", key));
  await expectOutageAnswer(await read(edge, "redis-away", "/api/generations"));
  expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(produced);
  await ownRedis.restart();
  // Redis came back empty (no persistence) and the bridge reconnects on its own: the same key is fresh.
  let retried = await submit(edge, "redis-away", key);
  for (let i = 0; i < 50 && retried.status === 503; i++) {
    await Bun.sleep(100);
    retried = await submit(edge, "redis-away", key);
  }
  expect(retried.status).toBe(202);
  expect(retried.headers.get("idempotent-replayed")).toBeNull();
}, 60_000);

test("Redis failing after the limiter answered (a restart mid-request): 503 + Retry-After, never 500", async () => {
  // The limiter on the pipeline's Redis, everything else on this test's own, which is down: the
  // moment of a Redis restart when the limiter's call passed and the next one fails.
  const deps = buildEdgeDeps(p.edgeEnv);
  const away = createUpstashRedis({ url: ownBridgeUrl, token });
  const app = createEdgeApp({
    ...deps,
    store: createGenerationStore(away, p.prefix),
    webhookSecrets: createWebhookSecrets(away, p.prefix),
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  const edge = `http://127.0.0.1:${server.port}`;
  const produced = await endOffsetTotal(p.kafka, p.topics.requests.name);
  await ownRedis.kill();
  try {
    await expectOutageAnswer(await submit(edge, "redis-race", crypto.randomUUID()));
    await expectOutageAnswer(await read(edge, "redis-race", `/api/generations/${uuidv7()}`));
    const secret = await fetch(`${edge}/api/webhook-secret`, {
      method: "POST",
      headers: { authorization: `Bearer ${await p.token("redis-race")}` },
    });
    await expectOutageAnswer(secret);
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(produced);
  } finally {
    await server.stop(true);
    await ownRedis.restart();
  }
}, 60_000);

/** Resolves once the relay has consumed everything in the request topic. */
async function relayCaughtUp(): Promise<void> {
  const admin = p.kafka.admin();
  await admin.connect();
  try {
    const topic = p.topics.requests.name;
    const ends = await admin.fetchTopicOffsets(topic);
    for (;;) {
      const [committed] = await admin.fetchOffsets({ groupId: p.groups.relay, topics: [topic] });
      const at = new Map(committed?.partitions.map((c) => [c.partition, Number(c.offset)]));
      if (ends.every((e) => Number(e.high) === 0 || (at.get(e.partition) ?? -1) >= Number(e.high))) return;
      await Bun.sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

test("a request Kafka takes after the edge answered 503 (its produce timed out) is dropped, never shown", async () => {
  // The real gateway behind a link that delivers each produce only after the edge's deadline.
  const gateway = p.edgeEnv.KAFKA_REST_URL ?? "";
  const late = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.text();
      await Bun.sleep(EDGE_PRODUCE_DEADLINE_MS + 500);
      const { pathname } = new URL(request.url);
      return fetch(`${gateway}${pathname}`, { method: request.method, headers: request.headers, body });
    },
  });
  const app = createEdgeApp(buildEdgeDeps({ ...p.edgeEnv, KAFKA_REST_URL: `http://127.0.0.1:${late.port}` }));
  const edge = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  try {
    const produced = await endOffsetTotal(p.kafka, p.topics.requests.name);
    await expectOutageAnswer(await submit(`http://127.0.0.1:${edge.port}`, "late-write", crypto.randomUUID()));
    // Kafka has it after all…
    while ((await endOffsetTotal(p.kafka, p.topics.requests.name)) === produced) await Bun.sleep(100);
    await relayCaughtUp();
    // …and the user, told it was not queued, never sees it.
    const list = (await (await read(p.edgeUrl, "late-write", "/api/generations")).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
  } finally {
    await edge.stop(true);
    await late.stop(true);
  }
}, 60_000);

const wrongTypes = [
  // ZRANGE goes on its own; its error is Redis's reply as it is.
  { read: "the list", path: () => "/api/generations", key: () => redisKeys(p.prefix).userGenerations("wrong-type") },
  // GET goes in the SDK's automatic pipeline, whose errors say "Command failed: <reply>".
  {
    read: "one generation",
    path: (id: string) => `/api/generations/${id}`,
    key: (id: string) => redisKeys(p.prefix).snapshot(id),
  },
];
test.each(wrongTypes)(
  "Redis answering that our request is wrong (a key of another type) when reading $read: 500 with the fixed message, not an outage",
  async ({ path, key: keyOf }) => {
    const id = uuidv7();
    const key = keyOf(id);
    // A sorted set where a string is read, a string where a sorted set is.
    if (key.endsWith(":gens")) await p.redis.send("SET", [key, "not a sorted set"]);
    else await p.redis.send("ZADD", [key, "1", "not a string"]);
    try {
      const response = await read(p.edgeUrl, "wrong-type", path(id));
      expect(response.status).toBe(500);
      expect(response.headers.get("retry-after")).toBeNull();
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("internal");
      expect(error.message).not.toContain("WRONGTYPE");
    } finally {
      await p.redis.send("DEL", [key]);
    }
  },
);
