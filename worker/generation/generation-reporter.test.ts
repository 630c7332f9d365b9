import { afterAll, expect, test } from "bun:test";
import { StatusEvent } from "../../shared/events/events.ts";
import type { EventMessageRecord } from "../../shared/events/kafka-message.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { requestEvent } from "../gateway/gateway-fixtures.ts";
import { createRedis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createSnapshotWriter } from "../relay/snapshot-writer.ts";
import type { EventSink } from "./event-sink.ts";
import { createReporter } from "./generation-reporter.ts";
import { createGenerationState } from "./generation-state.ts";

const redis = await createRedis(TEST_REDIS_URL);
const prefix = freshPrefix();
const state = createGenerationState(redis, prefix);
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.close();
});

const topics = { status: "status", complete: "complete", failed: "failed" };

/** Records each send's seqs and holds it until released, like a produce awaiting its acks. */
function heldSink() {
  const sends: number[][] = [];
  const releases: ((error?: Error) => void)[] = [];
  const sink: EventSink = {
    send(records: { topic: string; message: EventMessageRecord }[]) {
      sends.push(records.map((r) => (StatusEvent.decode(r.message.value) as { value: StatusEvent }).value.seq));
      return new Promise<void>((resolve, reject) => {
        releases.push((error) => (error ? reject(error) : resolve()));
      });
    },
    written() {
      throw new Error("these tests publish no terminal record");
    },
  };
  const release = async (error?: Error) => {
    while (releases.length === 0) await Bun.sleep(1);
    releases.shift()?.(error);
  };
  return { sink, sends, release };
}

/** Emits one event, then three while its send is held: the three travel together in the next send. */
async function emitOneThenThreeTogether(report: ReturnType<typeof createReporter>, held: ReturnType<typeof heldSink>) {
  const first = report.emit("processing", "started", 5);
  while (held.sends.length === 0) await Bun.sleep(1);
  const later = [10, 20, 30].map((p) => report.emit("processing", "rendering", p));
  await held.release();
  await first;
  await held.release();
  await Promise.all(later);
}

test("events emitted while a send is in flight go together in the next send, in seq order", async () => {
  const held = heldSink();
  const report = createReporter(requestEvent(), undefined, { state, sink: held.sink, topics, workerId: "w" });
  await emitOneThenThreeTogether(report, held);
  expect(held.sends).toEqual([[1], [2, 3, 4]]);
  await report.settled();
});

test("a failed send fails every event queued after it until the reporter is reset", async () => {
  const { sink, sends, release } = heldSink();
  const report = createReporter(requestEvent(), undefined, { state, sink, topics, workerId: "w" });
  // Emitted in the same turn, so both travel in the first send.
  const first = report.emit("processing", "started", 5);
  const second = report.emit("processing", "rendering", 10);
  await release(new Error("kafka away"));
  await expect(first).rejects.toThrow("kafka away");
  await expect(second).rejects.toThrow("kafka away");
  await expect(report.emit("processing", "rendering", 20)).rejects.toThrow("kafka away");
  await report.reset();
  const after = report.emit("processing", "rendering", 30);
  await release();
  await after;
  expect(sends).toEqual([[1, 2], [4]]);
});

test("a status event goes live once numbered, before Kafka has it; a terminal one only once Kafka has it", async () => {
  const { sink, release } = heldSink();
  const applied: string[] = [];
  const applyLive = async (event: StatusEvent, after: number) => {
    applied.push(`${event.seq} ${event.status} after ${after}`);
    return true;
  };
  const report = createReporter(requestEvent(), undefined, { state, sink, topics, workerId: "w", applyLive });
  const progress = report.emit("processing", "started", 5);
  const deadline = Date.now() + 1_000;
  while (applied.length === 0 && Date.now() < deadline) await Bun.sleep(1);
  expect(applied).toEqual(["1 processing after 0"]); // its send is still held
  await release();
  await progress;

  const status = await report.statusEvent("canceled", "done", 100);
  const published = report.publish({ status, published: false });
  await Bun.sleep(20);
  expect(applied).toEqual(["1 processing after 0"]);
  await release();
  await published;
  expect(applied).toEqual(["1 processing after 0", "2 canceled after 1"]);
});

test("live applies are sent in seq order without waiting for replies, each naming the one sent before it", async () => {
  const { sink, release } = heldSink();
  const sent: [number, number][] = [];
  const applyLive = (event: StatusEvent, after: number) => {
    sent.push([event.seq, after]);
    return new Promise<boolean>(() => {}); // no reply, ever
  };
  const report = createReporter(requestEvent(), undefined, { state, sink, topics, workerId: "w", applyLive });
  const events = [5, 10, 20].map((p) => report.emit("processing", "rendering", p));
  const deadline = Date.now() + 1_000;
  while (sent.length < 3 && Date.now() < deadline) await Bun.sleep(1);
  expect(sent).toEqual([
    [1, 0],
    [2, 1],
    [3, 2],
  ]);
  await release();
  await Promise.all(events);
});

test("after a failed send, no later event goes live until the reporter is reset", async () => {
  const { sink, release } = heldSink();
  const applied: [number, number][] = [];
  const applyLive = async (event: StatusEvent, after: number) => {
    applied.push([event.seq, after]);
    return true;
  };
  const report = createReporter(requestEvent(), undefined, { state, sink, topics, workerId: "w", applyLive });
  const first = report.emit("processing", "started", 5);
  await release(new Error("kafka away"));
  await expect(first).rejects.toThrow("kafka away");
  await expect(report.emit("processing", "rendering", 10)).rejects.toThrow("kafka away");
  await Bun.sleep(20);
  expect(applied).toEqual([[1, 0]]); // in the failed send; the one after it never went live
  await report.reset();
  const after = report.emit("processing", "rendering", 20);
  await release();
  await after;
  // It names the last event sent live (1), not the one that never went (2): naming 2 would
  // have every apply after a retry refused.
  expect(applied).toEqual([
    [1, 0],
    [3, 1],
  ]);
});

const refused = async (): Promise<boolean> => false;
const redisAway = async (): Promise<boolean> => {
  throw new Error("redis away");
};
test.each([
  ["is refused (the event sent before it is not in)", refused],
  ["fails (Redis away)", redisAway],
] as const)("when an event's live apply %s, no later event goes live: the relay delivers them", async (_, second) => {
  const { sink, release } = heldSink();
  const sent: number[] = [];
  const applyLive = async (event: StatusEvent) => {
    sent.push(event.seq);
    return event.seq === 2 ? second() : true;
  };
  const report = createReporter(requestEvent(), undefined, { state, sink, topics, workerId: "w", applyLive });
  for (const progress of [5, 10, 20]) {
    const emitted = report.emit("processing", "rendering", progress);
    await release();
    await emitted;
  }
  await Bun.sleep(20);
  expect(sent).toEqual([1, 2]);
});

test("a batch goes live through the relay's script on the real Redis in seq order: every event logged, the relay's repeat a no-op", async () => {
  const held = heldSink();
  const writer = createSnapshotWriter(redis, prefix);
  const request = requestEvent();
  const report = createReporter(request, undefined, {
    state,
    sink: held.sink,
    topics,
    workerId: "w",
    applyLive: writer.applyLive,
  });
  // The last three are one send; each goes live as it is numbered, right behind the one before it.
  await emitOneThenThreeTogether(report, held);
  const log = redisKeys(prefix).eventLog(request.id);
  const logged = async () =>
    ((await redis.send("LRANGE", [log, "0", "-1"])) as string[]).map(
      (raw) => JSON.parse(raw) as { seq: number; progress: number },
    );
  const deadline = Date.now() + 5_000;
  while ((await logged()).length < 4 && Date.now() < deadline) await Bun.sleep(10);
  // An event applied after a later one would be dropped as stale: all four, in order, means none was.
  expect((await logged()).map((m) => [m.seq, m.progress])).toEqual([
    [1, 5],
    [2, 10],
    [3, 20],
    [4, 30],
  ]);
  const repeated = StatusEvent.create({
    id: request.id,
    userId: request.userId,
    seq: 3,
    status: "processing",
    stage: "rendering",
    progress: 20,
    at: new Date().toISOString(),
    workerId: "w",
    attempt: 1,
  });
  expect(await writer.applyStatus(repeated)).toBeNull();
}, 10_000);
