/**
 * The operations console behind a TLS-terminating proxy (the real process, on the real broker and
 * Redis): the request reaching it is plain http, yet the operator's browser is on https, so the
 * session cookie must be Secure by OPS_PUBLIC_ORIGIN, and forms post from that origin.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ROOT } from "../../infrastructure/paths.ts";
import { mintOpsToken } from "../../shared/auth/ops-token.ts";
import { freshPrefix } from "../redis/redis-test-env.ts";
import { freshKafkaConfig } from "../testing/kafka-test-env.ts";
import { freePort } from "../testing/pipeline-harness.ts";
import { until } from "../testing/until.ts";

const SECRET = "o".repeat(48);
const PUBLIC_ORIGIN = "https://ops.example.test";
const children: Subprocess[] = [];

async function startConsole(env: Record<string, string>): Promise<string> {
  const port = freePort();
  const kafka = freshKafkaConfig();
  const child = Bun.spawn([process.execPath, join(ROOT, "worker/ops/main.ts")], {
    cwd: mkdtempSync(join(tmpdir(), "ops-")),
    env: {
      PATH: process.env.PATH ?? "",
      KAFKA_BROKERS: "127.0.0.1:9092",
      KAFKA_TOPIC_PREFIX: kafka.topicPrefix,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: freshPrefix(),
      AUTH_JWT_SECRET: SECRET,
      OPS_PORT: String(port),
      METRICS_PORT: "0",
      LOG_LEVEL: "error",
      ...env,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await until(() =>
    fetch(`${url}/ops/login`).then(
      (r) => r.ok,
      () => false,
    ),
  );
  return url;
}

let behindProxy: string;
let direct: string;
beforeAll(async () => {
  [behindProxy, direct] = await Promise.all([startConsole({ OPS_PUBLIC_ORIGIN: PUBLIC_ORIGIN }), startConsole({})]);
}, 60_000);
afterAll(() => {
  for (const child of children) child.kill();
});

const signIn = async (url: string, origin: string) =>
  fetch(`${url}/ops/login`, {
    method: "POST",
    redirect: "manual",
    headers: { origin, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: await mintOpsToken("op-1", "viewer", SECRET) }),
  });

test("over plain http from a TLS proxy, the console cookie is Secure because OPS_PUBLIC_ORIGIN is https", async () => {
  const response = await signIn(behindProxy, PUBLIC_ORIGIN);
  expect(response.status).toBe(303);
  const cookie = response.headers.get("set-cookie") ?? "";
  expect(cookie).toContain("HttpOnly");
  expect(cookie).toContain("Secure");
  // Forms post from the public origin only.
  expect((await signIn(behindProxy, behindProxy)).status).toBe(403);
});

test("without it (direct local use) the request's own URL decides: plain http, no Secure", async () => {
  const response = await signIn(direct, direct);
  expect(response.status).toBe(303);
  expect(response.headers.get("set-cookie") ?? "").not.toContain("Secure");
});
