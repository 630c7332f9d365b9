import { afterAll, beforeAll, expect, test } from "bun:test";
import { redisKeys } from "../../shared/redis-keys.ts";
import { createRedis, type Redis } from "../../worker/redis/redis-client.ts";
import { TEST_REDIS_URL } from "../../worker/redis/redis-test-env.ts";
import { until } from "../../worker/testing/until.ts";
import { type Stack, startStack } from "../stacks.ts";

// The twin as the benchmark runs it (its processes, the shared Redis, its history database):
// a finished job reads as finished, and reads on from the history once its snapshot is gone.
let stack: Stack;
let redis: Redis;
beforeAll(async () => {
  stack = await startStack("twin", { workers: 1, maxConcurrent: 2 });
  redis = await createRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis?.close();
  await stack?.stop();
});

test("the twin ends each job in the snapshot and in the history, read through the edge", async () => {
  const headers = { authorization: `Bearer ${await stack.token("twin-user")}`, "content-type": "application/json" };
  const api = (path = "", init: RequestInit = {}) =>
    fetch(`${stack.edgeUrl}/api/generations${path}`, { ...init, headers });
  const body = JSON.stringify({ prompt: "twin", width: 256, height: 256, format: "webp" });
  const submitted = await api("", { method: "POST", body });
  expect(submitted.status).toBe(202);
  const { id } = (await submitted.json()) as { id: string };

  const status = async () => ((await (await api(`/${id}`)).json()) as { status: string }).status;
  await until(async () => (await status()) === "completed");
  // Without its live snapshot the generation is read from the history, whose batch is written
  // within a second of the job's end.
  await redis.send("DEL", [redisKeys(stack.env.REDIS_KEY_PREFIX ?? "").snapshot(id)]);
  await until(async () => (await status()) === "completed");

  const { entries } = (await (await api(`/${id}/logs`)).json()) as { entries: { message: string }[] };
  expect(entries[0]?.message).toStartWith("attempt 1");
  expect(entries.at(-1)?.message).toStartWith("completed:");
  expect((await api(`/${id}`, { method: "DELETE" })).status).toBe(204);
  expect((await api(`/${id}`)).status).toBe(404);
});
