/**
 * A 202 is an honest answer: the generation is recorded in Redis before its request is queued,
 * so it can be read at once (even with the relay stopped), and a submit whose state Redis will
 * not take is answered 503 with nothing queued.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { endOffsetTotal } from "../gateway/gateway-fixtures.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ workers: 0 });
  // Nothing but the edge writes generation state from here on.
  await p.relay.stop();
});
afterAll(() => p.stop());

test("after a 202 the generation reads back as queued, with its queue position, without the relay", async () => {
  const response = await p.submit("ann", { prompt: "a fox", width: 256, height: 256 });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  const read = await p.api(`/api/generations/${id}`, { user: "ann" });
  expect(read.status).toBe(200);
  const snapshot = (await read.json()) as GenerationSnapshot;
  expect(snapshot).toMatchObject({ id, status: "queued", params: { prompt: "a fox" }, queuePosition: 0 });
  const list = (await (await p.api("/api/generations", { user: "ann" })).json()) as { items: { id: string }[] };
  expect(list.items.map((g) => g.id)).toEqual([id]);
});

test("when Redis refuses to record the generation the submit is 503 and nothing is queued", async () => {
  // A key of the wrong type makes Redis refuse the recording script, as it would refuse a write when out of memory.
  await p.redis.send("SET", [redisKeys(p.prefix).userGenerations("bea"), "not a sorted set"]);
  const before = await endOffsetTotal(p.kafka, p.topics.requests.name);
  const response = await p.submit("bea", { prompt: "a fox", width: 256, height: 256 }, { "idempotency-key": "k-1" });
  expect(response.status).toBe(503);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unavailable");
  expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(before);
  // No half-written snapshot is left, and the Idempotency-Key is free for the retry.
  let cursor = "0";
  const snapshots: string[] = [];
  do {
    const [next, keys] = (await p.redis.send("SCAN", [cursor, "MATCH", `${p.prefix}gen:*`, "COUNT", "1000"])) as [
      string,
      string[],
    ];
    snapshots.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  expect(snapshots.length).toBe(1);
  await p.redis.send("DEL", [redisKeys(p.prefix).userGenerations("bea")]);
  const retried = await p.submit("bea", { prompt: "a fox", width: 256, height: 256 }, { "idempotency-key": "k-1" });
  expect(retried.status).toBe(202);
});
