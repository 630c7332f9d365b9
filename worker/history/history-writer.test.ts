import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PipelineError } from "../../shared/errors.ts";
import { DeadLetterEvent } from "../../shared/events/dead-letter-event.ts";
import { CompleteEvent, FailedEvent, StatusEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { createLogger } from "../../shared/logger.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics, readMessages } from "../gateway/gateway-fixtures.ts";
import { createLocalImageStore } from "../images/local-image-store.ts";
import { createDeadLetters } from "../kafka/dead-letters.ts";
import type { Message } from "../kafka/kafka-client.ts";
import { createPurger } from "../lifecycle/purge-generation.ts";
import { createTombstones, type Tombstones } from "../lifecycle/tombstones.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { type HistoryDb, openHistoryDb } from "./history-db.ts";
import { completeEvent, endedStatusEvent, failedEvent, freshUser, loggedStatusEvent } from "./history-fixtures.ts";
import type { TerminalEvent } from "./history-record.ts";
import { createHistoryWriter, type HistoryWriter } from "./history-writer.ts";

const config = freshKafkaConfig();
const specs = topicSpecs(config);
const topics = { complete: specs.complete.name, failed: specs.failed.name, status: specs.status.name };
const kafka = testKafka(config);
const tmp = mkdtempSync(join(tmpdir(), "history-writer-"));
const store = createLocalImageStore(join(tmp, "images"));
const prefix = freshPrefix();
const groups: string[] = [];
const writers: HistoryWriter[] = [];
const producer = createBatchingProducer({ kafka, logger: silentLogger });
let history: HistoryDb;
let redis: Redis;

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
  history = await openHistoryDb(`file:${join(tmp, "history.sqlite")}`);
  redis = await createRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  await Promise.all(writers.map((w) => w.stop()));
  await producer.close();
  await history.close();
  await deleteKeys(redis, prefix);
  redis.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups(groups).catch(() => {});
  await admin.disconnect();
  await deleteTestTopics(config);
  rmSync(tmp, { recursive: true, force: true });
});

function capture() {
  const lines: { level: string; msg: string }[] = [];
  return { lines, logger: createLogger({ level: "warn", sink: (_level, line) => lines.push(JSON.parse(line)) }) };
}

async function startWriter(
  db: HistoryWriterDb,
  logger = capture().logger,
  tombstones: Pick<Tombstones, "isDeleted" | "deletedAmong"> = createTombstones(redis, prefix),
) {
  const groupId = `${config.topicPrefix}history-${groups.length}`;
  groups.push(groupId);
  const deadLetters = createDeadLetters({ producer, topic: specs.deadLetter.name, consumer: groupId, logger });
  const purger = createPurger({ redis, prefix, history, store, logger: silentLogger });
  const writer = createHistoryWriter({
    kafka,
    groupId,
    topics,
    history: db,
    tombstones,
    discardImages: purger.discardImages,
    deadLetters,
    logger,
  });
  writers.push(writer);
  await writer.start();
  return { writer, groupId };
}

type HistoryWriterDb = Pick<HistoryDb, "record" | "recordLog" | "recordMany" | "remove">;

const message = (event: TerminalEvent): Message =>
  "failedAt" in event
    ? toKafkaMessage(FailedEvent, event, newTraceparent())
    : "completedAt" in event
      ? toKafkaMessage(CompleteEvent, event, newTraceparent())
      : toKafkaMessage(StatusEvent, event, newTraceparent());

async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}

/** Waits until the group has committed every message on both topics: the writer is done with them. */
async function committedToEnd(groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const until = Date.now() + 30_000;
    let behind: string[] = [];
    while (Date.now() < until) {
      behind = [];
      for (const topic of Object.values(topics)) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const end of ends) {
          const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? "-1";
          if (Number(end.high) > 0 && at !== end.high) behind.push(`${topic}/${end.partition}: ${at} of ${end.high}`);
        }
      }
      if (behind.length === 0) return;
      await Bun.sleep(100);
    }
    throw new Error(`group ${groupId} still behind: ${behind.join(", ")}`);
  } finally {
    await admin.disconnect();
  }
}

describe("history writer against the real broker", () => {
  const user = freshUser();
  const c1 = completeEvent(user, 1);
  const f1 = failedEvent(user, 2);
  const c2 = completeEvent(user, 3);

  test("records each terminal event once, parks invalid ones on the dead-letter topic, and commits after writing", async () => {
    await produce(topics.complete, [
      message(c1),
      message(c1),
      message(c2),
      { key: "broken", value: "{not json" },
      { key: "empty", value: null },
      // A failed event on the complete topic does not match that topic's schema.
      message(f1),
    ]);
    await produce(topics.failed, [message(f1), message(f1)]);

    const log = capture();
    const { writer, groupId } = await startWriter(history, log.logger);
    await committedToEnd(groupId);

    expect(writer.ready).toBe(true);
    expect(writer.recorded).toBe(3);
    const rows = await history.listByUser(user, { limit: 10 });
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      [c2.id, "completed"],
      [f1.id, "failed"],
      [c1.id, "completed"],
    ]);
    expect((await history.get(c1.id))?.image).toEqual(c1.image);
    expect((await history.get(f1.id))?.error).toEqual(f1.error);
    const parked = await readMessages(kafka, specs.deadLetter.name, 3);
    expect(parked.map((m) => m.headers["dlt-source-topic"])).toEqual([
      topics.complete,
      topics.complete,
      topics.complete,
    ]);
    expect(
      parked.every((m) => m.headers["dlt-error-code"] === "invalid_event" && m.headers["dlt-consumer"] === groupId),
    ).toBe(true);
    const letters = parked.map((m) => DeadLetterEvent.decode(m.value)).flatMap((r) => (r.ok ? [r.value] : []));
    // The original bytes travel unchanged, with where they came from.
    expect(letters.map((l) => [atob(l.keyBase64 ?? ""), l.valueBase64 && atob(l.valueBase64)]).sort()).toEqual(
      [
        ["broken", "{not json"],
        ["empty", undefined],
        [f1.id, String(message(f1).value)],
      ].sort(),
    );
    for (const [i, letter] of letters.entries())
      expect(`${letter.source.partition}:${letter.source.offset}`).toBe(
        `${parked[i]?.headers["dlt-source-partition"]}:${parked[i]?.headers["dlt-source-offset"]}`,
      );
    expect(log.lines.filter((l) => l.msg === "message parked on the dead-letter topic")).toHaveLength(3);
    expect(writer.crashes).toBe(0);

    await writer.stop();
    await writer.stop();
    expect(writer.ready).toBe(false);
  });

  test("reading both topics again from the start (a redelivery) changes no row", async () => {
    const before = await history.listByUser(user, { limit: 10 });
    const { writer, groupId } = await startWriter(history);
    await committedToEnd(groupId);
    expect(writer.recorded).toBe(0);
    expect(await history.listByUser(user, { limit: 10 })).toEqual(before);
    await writer.stop();
  });

  test("a database failure leaves the offset uncommitted; the event is recorded once the database answers", async () => {
    const other = freshUser();
    const event = completeEvent(other, 9);
    let failures = 2;
    const attempts: string[] = [];
    const flaky: HistoryWriterDb = {
      record(e) {
        attempts.push(e.id);
        if (e.id === event.id && failures-- > 0) {
          return Promise.reject(new PipelineError("database_unavailable", "disk full", { retryable: true }));
        }
        return history.record(e);
      },
      recordLog: (e) => history.recordLog(e),
      // The batch's transaction fails too: the writer falls back to one message at a time.
      recordMany: () => Promise.reject(new PipelineError("database_unavailable", "disk full", { retryable: true })),
      remove: (id) => history.remove(id),
    };
    await produce(topics.complete, [message(event)]);
    const { writer, groupId } = await startWriter(flaky);
    await committedToEnd(groupId);
    expect(attempts.filter((id) => id === event.id).length).toBeGreaterThanOrEqual(3);
    expect((await history.listByUser(other, { limit: 10 })).map((r) => r.id)).toEqual([event.id]);
    expect(writer.recorded).toBe(1);
    await writer.stop();
  });

  test("a fetched batch is written in one transaction, log lines and rows together", async () => {
    const other = freshUser();
    const ended = Array.from({ length: 12 }, (_, i) => completeEvent(other, 200 + i));
    const lines = ended.map((e) => loggedStatusEvent(e.id, other, 1, { level: "info", message: `started ${e.id}` }));
    await produce(topics.status, lines.map(message));
    await produce(topics.complete, ended.map(message));
    const calls = { many: 0, one: 0 };
    const counting: HistoryWriterDb = {
      record(e) {
        calls.one++;
        return history.record(e);
      },
      recordLog(e) {
        calls.one++;
        return history.recordLog(e);
      },
      recordMany(batch) {
        calls.many++;
        return history.recordMany(batch);
      },
      remove: (id) => history.remove(id),
    };
    const { writer, groupId } = await startWriter(counting);
    await committedToEnd(groupId);
    expect((await history.listByUser(other, { limit: 20 })).map((r) => r.id).sort()).toEqual(
      ended.map((e) => e.id).sort(),
    );
    for (const e of ended) expect((await history.logs(e.id)).map((l) => l.message)).toEqual([`started ${e.id}`]);
    expect(writer.recorded).toBe(ended.length);
    // Two topics of three partitions: a batch per partition fetched, never a write per event.
    expect(calls.one).toBe(0);
    expect(calls.many).toBeGreaterThanOrEqual(2);
    expect(calls.many).toBeLessThan(ended.length + lines.length);
    await writer.stop();
  });

  test("canceled and expired generations come from the status topic, with every log line; progress alone writes nothing", async () => {
    const other = freshUser();
    const canceled = endedStatusEvent(other, "canceled");
    const expired = endedStatusEvent(other, "expired");
    const line = loggedStatusEvent(canceled.id, other, 2, { level: "info", message: "attempt 1 started" });
    const { log: _none, ...progress } = loggedStatusEvent(canceled.id, other, 3, { level: "info", message: "x" });
    await produce(topics.status, [
      message(line),
      message(StatusEvent.create(progress)),
      message(canceled),
      message(expired),
    ]);
    const { writer, groupId } = await startWriter(history);
    await committedToEnd(groupId);
    expect((await history.listByUser(other, { limit: 10 })).map((r) => [r.id, r.status])).toEqual([
      [expired.id, "expired"],
      [canceled.id, "canceled"],
    ]);
    expect((await history.logs(canceled.id)).map((l) => l.message)).toEqual(["attempt 1 started", "canceled"]);
    expect(writer.recorded).toBe(2);
    await writer.stop();
  });

  test("a deleted generation's events are dropped and the images it stored are removed", async () => {
    const owner = freshUser();
    const event = completeEvent(owner, 77);
    const image = await store.put(new TextEncoder().encode("pretend image 77"), "webp");
    const thumb = await store.put(new TextEncoder().encode("pretend thumbnail 77"), "webp");
    const stored = {
      ...event,
      image: { ...event.image, key: image.key, sha256: image.sha256 },
      thumbnail: { ...(event.thumbnail ?? event.image), key: thumb.key, sha256: thumb.sha256 },
    };
    await redis.send("SET", [redisKeys(prefix).deleted(event.id), "1", "EX", "60"]);
    await produce(topics.complete, [message(CompleteEvent.create(stored))]);
    await produce(topics.status, [
      message(loggedStatusEvent(event.id, owner, 1, { level: "info", message: "started" })),
    ]);
    const { groupId } = await startWriter(history);
    await committedToEnd(groupId);
    expect(await history.get(event.id)).toBeNull();
    expect(await history.logs(event.id)).toEqual([]);
    expect(await store.get(image.key)).toBeNull();
    expect(await store.get(thumb.key)).toBeNull();
  });

  test("a generation deleted while its batch is written is removed by the batch itself, image too", async () => {
    const owner = freshUser();
    const event = completeEvent(owner, 78);
    const kept = completeEvent(owner, 79);
    const image = await store.put(new TextEncoder().encode("pretend image 78"), "webp");
    const stored = CompleteEvent.create({
      ...event,
      image: { ...event.image, key: image.key, sha256: image.sha256 },
      thumbnail: undefined,
    });
    await produce(topics.complete, [message(stored), message(kept)]);
    // The owner's DELETE lands between the batch's first tombstone lookup and its commit.
    const deletingDb: HistoryWriterDb = {
      record: (e) => history.record(e),
      recordLog: (e) => history.recordLog(e),
      async recordMany(batch) {
        if (batch.ends.some((e) => e.id === event.id))
          await redis.send("SET", [redisKeys(prefix).deleted(event.id), "1", "EX", "60"]);
        return history.recordMany(batch);
      },
      remove: (id) => history.remove(id),
    };
    // Only the one-at-a-time path asks about one id: the batch leaves nothing of this one to it.
    // (The writer reads the topics from the start: earlier tests' deleted generations do go there.)
    const real = createTombstones(redis, prefix);
    let askedOneByOne = 0;
    const tombstones = {
      deletedAmong: real.deletedAmong,
      isDeleted(id: string) {
        if (id === event.id) askedOneByOne++;
        return real.isDeleted(id);
      },
    };
    const { groupId } = await startWriter(deletingDb, capture().logger, tombstones);
    await committedToEnd(groupId);
    expect(await history.get(event.id)).toBeNull();
    expect(await store.get(image.key)).toBeNull();
    expect((await history.get(kept.id))?.id).toBe(kept.id);
    expect(askedOneByOne).toBe(0);
  });
});
