import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { redisKeys, TOMBSTONE_TTL_SECONDS } from "../../shared/redis-keys.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { completeEvent, idAt } from "../history/history-fixtures.ts";
import { createRetention } from "../lifecycle/retention.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";

const provider = scriptedProvider([]);
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ provider, maxConcurrent: 1 });
});
afterAll(() => p.stop());

const files = () =>
  readdirSync(p.imageDir, { recursive: true })
    .map(String)
    .filter((f) => f.includes("."));

/** Every Redis key of this test run that still names, holds or points at the generation. */
async function redisTraces(id: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = (await p.redis.send("SCAN", [cursor, "MATCH", `${p.prefix}*`, "COUNT", "1000"])) as [
      string,
      string[],
    ];
    for (const key of keys) {
      const type = await p.redis.send("TYPE", [key]);
      const holds =
        key.includes(id) ||
        (type === "zset" && (await p.redis.send("ZSCORE", [key, id])) !== null) ||
        (type === "hash" && Number(await p.redis.send("HEXISTS", [key, id])) === 1) ||
        (type === "string" && String(await p.redis.send("GET", [key])).includes(id)) ||
        (type === "list" && ((await p.redis.send("LRANGE", [key, "0", "-1"])) as string[]).some((v) => v.includes(id)));
      if (holds) found.push(key);
    }
    cursor = next;
  } while (cursor !== "0");
  return found;
}

/** Nothing of the generation is left but its tombstone, which holds no data and expires. */
async function expectNothingLeft(id: string, imageFiles: string[]) {
  const tombstone = redisKeys(p.prefix).deleted(id);
  expect(await redisTraces(id)).toEqual([tombstone]);
  expect(await p.redis.send("GET", [tombstone])).toBe("1");
  const ttl = Number(await p.redis.send("TTL", [tombstone]));
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(TOMBSTONE_TTL_SECONDS);
  expect(await p.history.get(id)).toBeNull();
  expect(await p.history.logs(id)).toEqual([]);
  for (const file of imageFiles) expect(files()).not.toContain(file);
}

async function submit(user: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await p.submit(
    user,
    { prompt: `delete me ${crypto.randomUUID()}`, width: 256, height: 256, ...body },
    headers,
  );
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

async function inHistory(id: string) {
  const until = Date.now() + 20_000;
  while (!(await p.history.get(id)) || (await p.history.logs(id)).length === 0) {
    if (Date.now() > until) throw new Error(`${id} never reached the history`);
    await Bun.sleep(50);
  }
}

/** Until the worker is idle and the relay and history writer have read every status event. */
async function settled() {
  while ((p.workers[0]?.inFlight ?? 0) > 0) await Bun.sleep(20);
  const admin = p.kafka.admin();
  await admin.connect();
  try {
    const status = p.topics.status.name;
    for (const group of [`${p.kafkaConfig.consumerGroup}-history`, `${p.kafkaConfig.consumerGroup}-relay`]) {
      const until = Date.now() + 20_000;
      for (;;) {
        const ends = await admin.fetchTopicOffsets(status);
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [status] });
        const behind = ends.filter(
          (e) =>
            Number(e.high) > 0 && committed?.partitions.find((c) => c.partition === e.partition)?.offset !== e.high,
        );
        if (behind.length === 0) break;
        if (Date.now() > until) throw new Error(`${group} is behind on ${status}`);
        await Bun.sleep(50);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

const del = (id: string, user: string) => p.api(`/api/generations/${id}`, { method: "DELETE", user });

describe("DELETE /api/generations/{id}", () => {
  test("a finished generation: image, thumbnail, Redis keys, history rows and log, idempotency record all go", async () => {
    const id = await submit("dora", {}, { "idempotency-key": `key-${crypto.randomUUID()}` });
    const done = await p.waitFor("dora", id);
    await inHistory(id);
    const imageFiles = [done.image?.url, done.thumbnail?.url].map((u) =>
      new URL(u ?? "").pathname.replace("/images/", ""),
    );
    expect(files()).toEqual(expect.arrayContaining(imageFiles));
    expect((await redisTraces(id)).length).toBeGreaterThan(3);

    expect((await del(id, "mallory")).status).toBe(404);
    expect((await p.api(`/api/generations/${id}`, { user: "dora" })).status).toBe(200);

    const response = await del(id, "dora");
    expect(response.status).toBe(204);
    await settled();
    await expectNothingLeft(id, imageFiles);
    expect((await p.api(`/api/generations/${id}`, { user: "dora" })).status).toBe(404);
    expect((await p.api(`/api/generations/${id}/logs`, { user: "dora" })).status).toBe(404);
    const list = (await (await p.api("/api/generations", { user: "dora" })).json()) as { items: GenerationSnapshot[] };
    expect(list.items.map((g) => g.id)).not.toContain(id);
    expect((await del(id, "dora")).status).toBe(404);
  });

  test("a replayed generation's attempt floor goes with it", async () => {
    const id = await submit("rita");
    const done = await p.waitFor("rita", id);
    await inHistory(id);
    // As a replay leaves it (RESET_FOR_REPLAY): the floor is the one key a worker never writes.
    await p.redis.send("SET", [redisKeys(p.prefix).attemptFloor(id), "2", "EX", "60"]);
    expect(await redisTraces(id)).toContain(redisKeys(p.prefix).attemptFloor(id));
    const imageFiles = [done.image?.url, done.thumbnail?.url].map((u) =>
      new URL(u ?? "").pathname.replace("/images/", ""),
    );
    expect((await del(id, "rita")).status).toBe(204);
    await settled();
    await expectNothingLeft(id, imageFiles);
  });

  test("a running generation is canceled first, and what it writes afterwards is removed too", async () => {
    provider.script.push({ kind: "gate" });
    const id = await submit("eli");
    await p.waitFor("eli", id, (g) => g.status === "processing" && g.stage === "rendering");
    expect((await del(id, "eli")).status).toBe(204);
    expect((await p.api(`/api/generations/${id}`, { user: "eli" })).status).toBe(404);
    const calls = provider.calls;
    provider.release();
    await settled();
    expect(provider.calls).toBe(calls);
    await expectNothingLeft(id, []);
    expect(files()).toEqual(files().filter((f) => !f.includes(id)));
  });

  test("a queued generation never starts and leaves nothing", async () => {
    provider.script.push({ kind: "gate" });
    const blocker = await submit("fay");
    await p.waitFor("fay", blocker, (g) => g.status === "processing");
    const queued = await submit("fay");
    await p.waitFor("fay", queued, (g) => g.status === "queued");
    const calls = provider.calls;
    expect((await del(queued, "fay")).status).toBe(204);
    provider.release();
    expect((await p.waitFor("fay", blocker)).status).toBe("completed");
    await settled();
    expect(provider.calls).toBe(calls);
    await expectNothingLeft(queued, []);
  });

  test("an image another generation stored with the very same bytes stays until that one is deleted too", async () => {
    const body = { prompt: "the same picture twice", seed: 99, style: "gradient" };
    const mine = await submit("gus", body);
    const theirs = await submit("hal", body);
    const [a, b] = [await p.waitFor("gus", mine), await p.waitFor("hal", theirs)];
    expect(a.image?.url).toBe(b.image?.url ?? "");
    await inHistory(mine);
    await inHistory(theirs);
    expect((await del(mine, "gus")).status).toBe(204);
    expect((await fetch(b.image?.url ?? "")).status).toBe(200);
    expect((await fetch(b.thumbnail?.url ?? "")).status).toBe(200);
    expect((await del(theirs, "hal")).status).toBe(204);
    expect((await fetch(b.image?.url ?? "")).status).toBe(404);
    expect((await fetch(b.thumbnail?.url ?? "")).status).toBe(404);
  });
});

describe("RETENTION_DAYS", () => {
  test("the sweep deletes generations older than N days with their files, and nothing newer", async () => {
    const day = 24 * 60 * 60 * 1000;
    const old = [40, 31].map((age, i) => completeEvent("ivy", 200 + i, idAt(Date.now() - age * day)));
    const stored: string[] = [];
    for (const event of old) {
      const image = await p.store.put(new TextEncoder().encode(`old image ${event.id}`), "webp");
      const thumb = await p.store.put(new TextEncoder().encode(`old thumbnail ${event.id}`), "webp");
      stored.push(image.key, thumb.key);
      const thumbnail = { ...event.image, key: thumb.key, sha256: thumb.sha256 };
      await p.history.record({ ...event, image: { ...event.image, key: image.key, sha256: image.sha256 }, thumbnail });
    }
    const recent = await submit("ivy");
    const done = await p.waitFor("ivy", recent);
    await inHistory(recent);

    const retention = createRetention({ days: 30, history: p.history, purger: p.purger, logger: silentLogger });
    expect(await retention.sweep()).toBe(2);
    for (const event of old) await expectNothingLeft(event.id, stored);
    expect(await p.history.get(recent)).not.toBeNull();
    expect((await fetch(done.image?.url ?? "")).status).toBe(200);
    expect(await retention.sweep()).toBe(0);
    expect(await createRetention({ days: 0, history: p.history, purger: p.purger, logger: silentLogger }).sweep()).toBe(
      0,
    );
  });
});
