/**
 * The submit's one Redis step (SUBMIT_REQUEST, `admitSubmitted`) through the real Upstash client,
 * the REST bridge and the real Redis: the in-flight cap holds under parallel submits, a refusal
 * writes nothing, and the same submit sent again (the client retries a request whose answer was
 * lost) is admitted again rather than refused for the place it took itself.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { redisKeys } from "../shared/redis-keys.ts";
import { queuedSnapshot } from "../shared/snapshot.ts";
import { requestEvent } from "../worker/gateway/gateway-fixtures.ts";
import { startTestBridge, type TestBridge } from "../worker/redis-bridge/bridge-test-server.ts";
import { createSnapshotWriter } from "../worker/relay/snapshot-writer.ts";
import { createGenerationStore, type GenerationStore } from "./generation-store.ts";
import { createUpstashRedis } from "./upstash-clients.ts";

let bridge: TestBridge;
let store: GenerationStore;
beforeAll(async () => {
  bridge = await startTestBridge();
  store = createGenerationStore(createUpstashRedis({ url: bridge.url, token: bridge.token }), bridge.prefix);
});
afterAll(async () => {
  await bridge.stop();
});

const limits = { maxInFlight: 3, backlogMax: 100 };
const inFlight = async (userId: string) =>
  Number(await bridge.redis.send("ZCARD", [redisKeys(bridge.prefix).userInFlight(userId)]));
const listed = async (userId: string) =>
  Number(await bridge.redis.send("ZCARD", [redisKeys(bridge.prefix).userGenerations(userId)]));

test("parallel submits of one user pass the in-flight cap exactly; the refused ones record nothing", async () => {
  const snapshots = Array.from({ length: 10 }, () => queuedSnapshot(requestEvent({ userId: "parallel" })));
  const verdicts = await Promise.all(snapshots.map((s) => store.admitSubmitted(s, limits)));
  expect(verdicts.filter((v) => v === "admitted")).toHaveLength(3);
  expect(verdicts.filter((v) => v === "in-flight-cap")).toHaveLength(7);
  expect(await inFlight("parallel")).toBe(3);
  expect(await listed("parallel")).toBe(3);
  const refused = snapshots.filter((_, i) => verdicts[i] !== "admitted");
  expect((await store.getMany(refused.map((s) => s.id))).every((s) => s === null)).toBe(true);
});

test("the same submit sent again is admitted again, at the cap too, and counts once", async () => {
  const first = queuedSnapshot(requestEvent({ userId: "retried" }));
  const last = queuedSnapshot(requestEvent({ userId: "retried" }));
  await store.admitSubmitted(first, limits);
  await store.admitSubmitted(queuedSnapshot(requestEvent({ userId: "retried" })), limits);
  expect(await store.admitSubmitted(last, limits)).toBe("admitted");
  // Its answer was lost and the client sends it again: it holds the last place itself.
  expect(await store.admitSubmitted(last, limits)).toBe("admitted");
  expect(await inFlight("retried")).toBe(3);
  expect(await store.admitSubmitted(queuedSnapshot(requestEvent({ userId: "retried" })), limits)).toBe("in-flight-cap");
});

test("over the backlog a submit is refused and records nothing; a repeat of an admitted one is not refused", async () => {
  const admitted = queuedSnapshot(requestEvent({ userId: "backlogged" }));
  expect(await store.admitSubmitted(admitted, limits)).toBe("admitted");
  await bridge.redis.send("SET", [redisKeys(bridge.prefix).backlog(), JSON.stringify({ lag: 101 }), "EX", "60"]);
  try {
    const refused = queuedSnapshot(requestEvent({ userId: "backlogged" }));
    expect(await store.admitSubmitted(refused, limits)).toBe("backlog");
    expect(await store.get(refused.id)).toBeNull();
    expect(await inFlight("backlogged")).toBe(1);
    expect(await store.admitSubmitted(admitted, limits)).toBe("admitted");
  } finally {
    await bridge.redis.send("DEL", [redisKeys(bridge.prefix).backlog()]);
  }
});

test("a refused submit is taken back whole, even when the relay had already queued its late Kafka write", async () => {
  const keys = redisKeys(bridge.prefix);
  const event = requestEvent({ userId: "refused-late" });
  const snapshot = queuedSnapshot(event);
  const other = requestEvent({ userId: "someone-else" });
  expect(await store.admitSubmitted(snapshot, limits)).toBe("admitted");
  // The gateway gave up on the produce, but Kafka wrote it and the relay applied it first.
  const relay = createSnapshotWriter(bridge.redis, bridge.prefix);
  await relay.applyRequest(event, 2, "40");
  await relay.applyRequest(other, 2, "41");
  const queue = keys.queue(2);
  expect(await bridge.redis.send("ZRANK", [queue, other.id])).toBe(1);
  // And a worker had started it: its Kafka seq block, a logged event and a webhook delivery exist.
  const started = [keys.producerSeq(event.id), keys.eventLog(event.id), keys.logs(event.id)];
  await bridge.redis.send("SET", [keys.producerSeq(event.id), "4"]);
  await bridge.redis.send("RPUSH", [keys.eventLog(event.id), "{}"]);
  await bridge.redis.send("RPUSH", [keys.logs(event.id), "{}"]);
  await bridge.redis.send("ZADD", [keys.webhooksDue(), "1", event.id]);

  await store.forgetSubmitted(snapshot, { mayReachKafka: true });
  // Its place no longer counts ahead of another user's request; nothing else of it is left.
  expect(await bridge.redis.send("ZRANK", [queue, other.id])).toBe(0);
  expect(await bridge.redis.send("ZSCORE", [queue, event.id])).toBeNull();
  expect(await store.getMany([snapshot.id])).toEqual([null]);
  expect(await inFlight("refused-late")).toBe(0);
  expect(await listed("refused-late")).toBe(0);
  expect(await bridge.redis.send("EXISTS", started)).toBe(0);
  expect(await bridge.redis.send("ZSCORE", [keys.webhooksDue(), event.id])).toBeNull();
  expect(await bridge.redis.send("EXISTS", [keys.deleted(event.id)])).toBe(1);
  // Tombstoned: the same event applied again (a redelivery) writes nothing.
  await relay.applyRequest(event, 2, "40");
  expect(await bridge.redis.send("ZSCORE", [queue, event.id])).toBeNull();
  expect(await store.getMany([snapshot.id])).toEqual([null]);
});

test("a refused submit whose produce was never attempted leaves no tombstone", async () => {
  const snapshot = queuedSnapshot(requestEvent({ userId: "refused-early" }));
  expect(await store.admitSubmitted(snapshot, limits)).toBe("admitted");
  await store.forgetSubmitted(snapshot, { mayReachKafka: false });
  expect(await bridge.redis.send("EXISTS", [redisKeys(bridge.prefix).deleted(snapshot.id)])).toBe(0);
  expect(await store.getMany([snapshot.id])).toEqual([null]);
  expect(await inFlight("refused-early")).toBe(0);
  expect(await listed("refused-early")).toBe(0);
});
