/**
 * Issue 8's first attack and its kin, against the real broker and Redis: a request the edge
 * used to accept and Redis then refused forever, and raw poison written straight onto every
 * partition of every topic. Every consumer parks what it cannot ever apply, keeps going, and
 * never crashes; normal generations on every partition complete.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DeadLetterEvent } from "../../shared/events/dead-letter-event.ts";
import { CompleteEvent, RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { NOT_UNICODE } from "../../shared/schema/schema.ts";
import type { GenerationSnapshot, StoredSnapshot } from "../../shared/snapshot.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { endOffsetTotal, readMessages } from "../gateway/gateway-fixtures.ts";
import { type Message, Partitioners } from "../kafka/kafka-client.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { until } from "../testing/until.ts";
import { WEBHOOK_DISPATCHER } from "../webhooks/webhook-dispatcher.ts";

let p: Pipeline;
const hooks: string[] = [];
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    hooks.push(((await request.json()) as { id: string }).id);
    return new Response(null, { status: 204 });
  },
});
beforeAll(async () => {
  p = await startPipeline({
    workers: 2,
    maxConcurrent: 4,
    edgeEnv: { ALLOW_PRIVATE_WEBHOOKS: "true" },
    // The receiver is on loopback: the dispatcher may deliver there (local development's policy).
    webhooks: { policy: { allowPrivate: true, allowHttp: true } },
  });
}, 60_000);
afterAll(async () => {
  await p.stop();
  await receiver.stop(true);
});

const params = { prompt: "a fox", style: "pixel-art", width: 256, height: 256, format: "png", seed: 7 } as const;
const request = (userId = "raw") =>
  RequestEvent.create({ id: uuidv7(), userId, params, createdAt: new Date().toISOString(), attempt: 1 });
/** A valid event's JSON with its prompt turned into a lone surrogate, escaped as JSON allows. */
const withLoneSurrogate = (json: string) => json.replace('"a fox"', '"\\ud800 fox"');

async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = p.kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}

const partitionsOf = (topic: keyof Pipeline["topics"]) =>
  Array.from({ length: p.topics[topic].partitions }, (_, i) => i);

async function storedPartition(id: string): Promise<number | undefined> {
  const raw = await p.redis.send("GET", [redisKeys(p.prefix).snapshot(id)]);
  return typeof raw === "string" ? (JSON.parse(raw) as StoredSnapshot).partition : undefined;
}

describe("the lone-surrogate request of issue 8", () => {
  test("is refused with 400 invalid_request; nothing reaches Kafka or Redis", async () => {
    const before = await endOffsetTotal(p.kafka, p.topics.requests.name);
    const response = await p.api("/api/generations", {
      method: "POST",
      user: "mallory",
      headers: { "content-type": "application/json" },
      body: '{"prompt":"\\ud800 fox"}',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details: unknown } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.details).toEqual([{ path: "prompt", message: NOT_UNICODE }]);
    expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(before);
    const list = await p.api("/api/generations", { user: "mallory" });
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
  });
});

describe("raw poison on every partition of every topic", () => {
  test("is parked with its reason and origin; every consumer moves on, none crashes, every partition still serves", async () => {
    const keys = redisKeys(p.prefix);
    const junk = (topic: keyof Pipeline["topics"]) =>
      partitionsOf(topic).map((partition) => ({ partition, key: `junk-${partition}`, value: "{not json" }));

    // A valid request whose terminal record in Redis is corrupt: the workers fail on it every time.
    const corruptTerminal = request();
    await p.redis.send("SET", [keys.terminal(corruptTerminal.id), "{corrupt", "EX", "600"]);
    // A valid status event for a generation whose snapshot is corrupt: Redis's script refuses it every time.
    const corruptSnapshotId = uuidv7();
    await p.redis.send("SET", [keys.snapshot(corruptSnapshotId), "{corrupt", "EX", "600"]);
    const status = StatusEvent.create({
      id: corruptSnapshotId,
      userId: "raw",
      seq: 1,
      status: "processing",
      progress: 5,
      stage: "started",
      at: new Date().toISOString(),
      workerId: "w",
      attempt: 1,
    });
    const surrogateRequest = toKafkaMessage(RequestEvent, request(), newTraceparent());
    const complete = CompleteEvent.create({
      id: uuidv7(),
      userId: "raw",
      params,
      image: {
        key: "ab/cd.png",
        url: "http://127.0.0.1/images/ab/cd.png",
        width: 256,
        height: 256,
        format: "png",
        bytes: 1,
        sha256: "a".repeat(64),
      },
      timings: { queuedMs: 0, generationMs: 0, totalMs: 0 },
      attempts: 1,
      completedAt: new Date().toISOString(),
    });

    await produce(p.topics.requests.name, [
      ...junk("requests"),
      { ...surrogateRequest, partition: 0, value: withLoneSurrogate(surrogateRequest.value) },
      { ...toKafkaMessage(RequestEvent, corruptTerminal, newTraceparent()), partition: 1 },
    ]);
    await produce(p.topics.status.name, [...junk("status"), toKafkaMessage(StatusEvent, status, newTraceparent())]);
    const completeMessage = toKafkaMessage(CompleteEvent, complete, newTraceparent());
    await produce(p.topics.complete.name, [
      ...junk("complete"),
      { ...completeMessage, value: withLoneSurrogate(completeMessage.value) },
    ]);
    await produce(p.topics.failed.name, junk("failed"));

    // Normal traffic behind the poison, until every request partition has carried some, and
    // every partition of the by-key topics (status, complete: the same count) will carry some of
    // their events. Requests are placed round robin, so six submits cover the first; ids hash.
    const ids: string[] = [];
    const requestPartitions = new Set<number>();
    const byKey = Partitioners.DefaultPartitioner();
    const byKeyMetadata = partitionsOf("complete").map((partitionId) => ({
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
      partitionErrorCode: 0,
    }));
    const eventPartitions = new Set<number>();
    const covered = () =>
      requestPartitions.size === p.topics.requests.partitions && eventPartitions.size === p.topics.complete.partitions;
    for (let i = 0; i < 60 && !covered(); i++) {
      const response = await p.submit(`user-${i}`, { prompt: `a fox ${i}`, width: 256, height: 256 });
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      ids.push(id);
      const partition = await storedPartition(id);
      if (partition !== undefined) requestPartitions.add(partition);
      const message = { key: id, value: "" };
      eventPartitions.add(byKey({ topic: p.topics.complete.name, partitionMetadata: byKeyMetadata, message }));
    }
    expect([...requestPartitions].sort()).toEqual(partitionsOf("requests"));
    const done = await Promise.all(ids.map((id, i) => p.waitFor(`user-${i}`, id, undefined, 60_000)));
    expect(done.map((g: GenerationSnapshot) => g.status)).toEqual(ids.map(() => "completed"));

    // Their status and complete events covered every partition of those topics too.
    const completed = (await readMessages(p.kafka, p.topics.complete.name, ids.length + 4)).filter((m) =>
      ids.includes(m.key),
    );
    expect(new Set(completed.map((m) => m.partition))).toEqual(new Set(partitionsOf("complete")));
    // The history is a copy that may be a second behind (its fetches wait to fill).
    await until(async () => (await Promise.all(ids.map((id) => p.history.get(id)))).every((r) => r !== null));
    for (const id of ids) expect((await p.history.get(id))?.status).toBe("completed");

    // Each consumer parked each poison it met: the relay and the workers both read requests, the
    // relay and the history both read statuses.
    const junkCount = (topic: keyof Pipeline["topics"]) => p.topics[topic].partitions;
    const expected = {
      [`${p.groups.relay} ${p.topics.requests.name}`]: junkCount("requests") + 1,
      [`${p.groups.workers} ${p.topics.requests.name}`]: junkCount("requests") + 2,
      [`${p.groups.relay} ${p.topics.status.name}`]: junkCount("status") + 1,
      [`${p.groups.history} ${p.topics.complete.name}`]: junkCount("complete") + 1,
      [`${p.groups.history} ${p.topics.failed.name}`]: junkCount("failed"),
      // The history reads the status topic too (canceled/expired endings, log lines).
      [`${p.groups.history} ${p.topics.status.name}`]: junkCount("status"),
    };
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    const parked = await readMessages(p.kafka, p.topics.deadLetter.name, total);
    const counts: Record<string, number> = {};
    for (const m of parked) {
      const key = `${m.headers["dlt-consumer"]} ${m.headers["dlt-source-topic"]}`;
      counts[key] = (counts[key] ?? 0) + 1;
      const letter = DeadLetterEvent.decode(m.value);
      if (!letter.ok) throw new Error(`dead letter does not decode: ${m.value}`);
      expect(letter.value.source).toEqual({
        kind: "kafka",
        topic: m.headers["dlt-source-topic"],
        partition: Number(m.headers["dlt-source-partition"]),
        offset: m.headers["dlt-source-offset"],
      });
      expect(letter.value.error.code).toBe(m.headers["dlt-error-code"] ?? "");
    }
    expect(counts).toEqual(expected);
    const reasons = parked.map((m) => `${m.headers["dlt-error-code"]}: ${m.headers["dlt-reason"]}`);
    expect(reasons).toContain(`invalid_event: not a valid request event: params.prompt ${NOT_UNICODE}`);
    expect(reasons.some((r) => r.startsWith("redis_error: ERR user_script"))).toBe(true);
    expect(reasons.some((r) => r.startsWith("internal: JSON Parse error"))).toBe(true);

    expect(p.relay.crashes).toBe(0);
    expect(p.historyWriter.crashes).toBe(0);
    expect(p.workers.map((w) => w.crashes)).toEqual([0, 0]);
  }, 120_000);
});

describe("a webhook delivery that can never be attempted", () => {
  test("is parked with its Redis origin; the dispatcher goes on delivering", async () => {
    const keys = redisKeys(p.prefix);
    const broken = uuidv7();
    await p.redis.send("SET", [keys.snapshot(broken), "{corrupt", "EX", "600"]);
    await p.redis.send("ZADD", [keys.webhooksDue(), String(Date.now()), broken]);

    const webhookUrl = `http://127.0.0.1:${receiver.port}/hook`;
    await p.webhookSecret("wes");
    const response = await p.submit("wes", { prompt: "hooked", width: 256, height: 256, webhookUrl });
    const { id } = (await response.json()) as { id: string };
    await p.waitFor("wes", id);
    await until(() => hooks.includes(id));

    const before = await endOffsetTotal(p.kafka, p.topics.deadLetter.name);
    const letters = await readMessages(p.kafka, p.topics.deadLetter.name, before);
    const parked = letters.find((m) => m.headers["dlt-source-redis-key"] === keys.webhooksDue());
    expect(parked?.headers["dlt-consumer"]).toBe(WEBHOOK_DISPATCHER);
    expect(parked?.headers["dlt-error-code"]).toBe("internal");
    const letter = DeadLetterEvent.decode(parked?.value);
    expect(letter.ok && letter.value.source).toEqual({ kind: "redis", redisKey: keys.webhooksDue(), member: broken });
    expect(letter.ok && atob(letter.value.valueBase64 ?? "")).toBe("{corrupt");
    expect(await p.redis.send("ZSCORE", [keys.webhooksDue(), broken])).toBeNull();
  });
});
