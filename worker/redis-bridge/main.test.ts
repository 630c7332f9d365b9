/** The entry point as a process: serves as its ACL user, stops cleanly on a signal, refuses to start without Redis. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { deadRedisUrl, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { freePort } from "../testing/process-pipeline.ts";
import { createTestBridgeUser, type TestBridgeUser } from "./bridge-test-server.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const TOKEN = "bridge-test-token-0123456789";

const prefix = freshPrefix();
let user: TestBridgeUser;
beforeAll(async () => {
  user = await createTestBridgeUser(prefix);
});
afterAll(() => user.drop());

/** Runs outside the repository so Bun does not load the developer's .env into the child. */
function start(env: Record<string, string>) {
  return Bun.spawn([process.execPath, MAIN], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "info",
      REDIS_KEY_PREFIX: prefix,
      REDIS_BRIDGE_USERNAME: user.username,
      REDIS_BRIDGE_PASSWORD: user.password,
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Reads stdout until a line contains `text`. */
async function waitForLine(stream: ReadableStream<Uint8Array>, text: string): Promise<void> {
  const decoder = new TextDecoder();
  let seen = "";
  for await (const chunk of stream) {
    seen += decoder.decode(chunk, { stream: true });
    if (seen.includes(text)) return;
  }
  throw new Error(`the process ended without printing "${text}": ${seen}`);
}

describe("redis-bridge main", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`serves on REDIS_REST_PORT and exits 0 on ${signal}, even when signalled twice`, async () => {
      const port = freePort();
      const proc = start({ REDIS_URL: TEST_REDIS_URL, UPSTASH_REDIS_REST_TOKEN: TOKEN, REDIS_REST_PORT: String(port) });
      try {
        await waitForLine(proc.stdout, "redis bridge listening");
        const res = await fetch(`http://127.0.0.1:${port}/`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: '["PING"]',
        });
        expect(await res.json()).toEqual({ result: "PONG" });
        proc.kill(signal);
        proc.kill(signal);
        expect(await proc.exited).toBe(0);
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }

  test("exits 1 with one line when Redis cannot be reached", async () => {
    const proc = start({
      REDIS_URL: deadRedisUrl(),
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
      REDIS_REST_PORT: String(freePort()),
    });
    expect(await proc.exited).toBe(1);
    const stderr = (await new Response(proc.stderr).text()).trim();
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toStartWith("Redis bridge cannot start: Redis at 127.0.0.1:");
    expect(stderr).toContain("is unavailable");
  });

  test("exits 1 with one line when Redis refuses its user's password", async () => {
    const proc = start({
      REDIS_URL: TEST_REDIS_URL,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
      REDIS_REST_PORT: String(freePort()),
      REDIS_BRIDGE_PASSWORD: "not-the-password-of-this-user",
    });
    expect(await proc.exited).toBe(1);
    const stderr = (await new Response(proc.stderr).text()).trim();
    expect(stderr).toBe("Redis bridge cannot start: Redis at 127.0.0.1:6379 refused our credentials");
  });

  test("exits 1 naming the variable when its Redis password is missing", async () => {
    const proc = start({ REDIS_URL: TEST_REDIS_URL, UPSTASH_REDIS_REST_TOKEN: TOKEN, REDIS_BRIDGE_PASSWORD: "" });
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain("REDIS_BRIDGE_PASSWORD");
  });

  test("exits 1 naming the variable when the token is missing", async () => {
    const proc = start({ REDIS_URL: TEST_REDIS_URL, REDIS_REST_PORT: String(freePort()) });
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain("UPSTASH_REDIS_REST_TOKEN");
  });
});
