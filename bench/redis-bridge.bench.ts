/**
 * `npx bun bench/redis-bridge.bench.ts [seconds-per-level]`: GET/SET operations per second and
 * latency through @upstash/redis → the Redis REST bridge → local Redis, at several numbers of
 * concurrent callers, with the client's auto-pipelining off (one HTTP request per operation) and
 * on (its default: concurrent calls share one /pipeline request). The bridge runs as its own
 * process (worker/redis-bridge/main.ts) on a free loopback port, as in production; a direct
 * Redis run is the baseline. Keys use a fresh prefix and are deleted at the end.
 */
import { tmpdir } from "node:os";
import { Redis as Upstash } from "@upstash/redis";
import { createRedis } from "../worker/redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../worker/redis/redis-test-env.ts";
import { createTestBridgeUser } from "../worker/redis-bridge/bridge-test-server.ts";

const CONCURRENCIES = [1, 16, 64];
const seconds = Math.min(30, Math.max(1, Number(process.argv[2] ?? 3)));
const prefix = freshPrefix().replace("test-", "bench-");
const token = `${crypto.randomUUID()}${crypto.randomUUID()}`;

const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
const port = probe.port;
probe.stop(true);

// The bridge logs in as its own ACL user, as in production.
const user = await createTestBridgeUser(prefix);
const bridge = Bun.spawn([process.execPath, new URL("../worker/redis-bridge/main.ts", import.meta.url).pathname], {
  cwd: tmpdir(),
  env: {
    PATH: process.env.PATH ?? "",
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    REDIS_BRIDGE_USERNAME: user.username,
    REDIS_BRIDGE_PASSWORD: user.password,
    UPSTASH_REDIS_REST_TOKEN: token,
    REDIS_REST_PORT: String(port),
    LOG_LEVEL: "error",
  },
  stdout: "ignore",
  stderr: "inherit",
});
const url = `http://127.0.0.1:${port}`;
for (let attempt = 0; ; attempt++) {
  const up = await fetch(url).then(
    (r) => r.ok,
    () => false,
  );
  if (up) break;
  if (attempt > 100) throw new Error("the bridge did not start");
  await Bun.sleep(50);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

type Op = (i: number) => Promise<unknown>;

/** `concurrency` callers loop over SET then GET of their own keys until the time is up. */
async function level(name: string, op: { set: Op; get: Op }, concurrency: number) {
  const latencies: number[] = [];
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, caller) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          await (i % 2 === 0 ? op.set : op.get)(caller * 1000 + (i % 1000));
          latencies.push(performance.now() - t0);
        } catch {
          failures++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const ms = (p: number) => percentile(latencies, p).toFixed(2);
  console.log(
    `${name.padEnd(28)} callers=${String(concurrency).padStart(3)}  ${String(Math.round(latencies.length / elapsed)).padStart(6)} ops/s` +
      `  p50=${ms(0.5)}ms p99=${ms(0.99)}ms  failures=${failures}`,
  );
}

const value = "x".repeat(64);
const direct = await createRedis(TEST_REDIS_URL);
try {
  const clients = {
    "bridge, one request per op": new Upstash({ url, token, enableAutoPipelining: false, enableTelemetry: false }),
    "bridge, auto-pipelined": new Upstash({ url, token, enableTelemetry: false }),
  };
  console.log(`GET/SET of ${value.length}-byte values, ${seconds}s per level, loopback`);
  for (const concurrency of CONCURRENCIES) {
    await level(
      "direct Redis (baseline)",
      {
        set: (i) => direct.send("SET", [`${prefix}${i}`, value]),
        get: (i) => direct.send("GET", [`${prefix}${i}`]),
      },
      concurrency,
    );
    for (const [name, client] of Object.entries(clients)) {
      await level(
        name,
        { set: (i) => client.set(`${prefix}${i}`, value), get: (i) => client.get(`${prefix}${i}`) },
        concurrency,
      );
    }
  }
} finally {
  await deleteKeys(direct, prefix);
  direct.close();
  bridge.kill("SIGTERM");
  await bridge.exited;
  await user.drop();
  await bridge.exited;
}
