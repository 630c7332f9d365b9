import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PipelineError } from "../../shared/errors.ts";
import { roundRobinTopics, topicSpecs } from "../../shared/topics.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { waitUntilServed } from "../kafka/topic-admin.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { startSilentBroker } from "../testing/silent-broker.ts";
import { type BatchingProducer, createBatchingProducer } from "./batching-producer.ts";
import { createFreshTopics, edgeMessage, endOffsetTotal, positionOf, readMessages } from "./gateway-fixtures.ts";

const config = freshKafkaConfig();
const kafka = testKafka(config);
const topics = topicSpecs(config);
const requests = topics.requests.name;
const producer = createBatchingProducer({ kafka, logger: silentLogger });

/** A topic of its own, so tests that count its offsets never see each other's writes. */
async function freshTopic(name: string, configEntries: { name: string; value: string }[] = []) {
  const topic = `${config.topicPrefix}${name}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 3, configEntries }] });
  await waitUntilServed(admin, [topic]);
  await admin.disconnect();
  return topic;
}

/** Deletes the topic and waits until the broker's metadata no longer lists it. */
async function deleteTopic(topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] });
  while ((await admin.listTopics()).includes(topic)) await Bun.sleep(50);
  await admin.disconnect();
}

/** Waits until the producer has handed a new batch to kafkajs (it is then in flight). */
async function batchStarted(batching: BatchingProducer, before: number) {
  while (batching.counters.batches === before) await new Promise((resolve) => setImmediate(resolve));
}

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  expect(await producer.start()).toBe(true);
});
afterAll(async () => {
  await producer.close();
  await deleteTestTopics(config);
  const admin = kafka.admin();
  await admin.connect();
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(config.topicPrefix));
  if (mine.length) await admin.deleteTopics({ topics: mine });
  await admin.disconnect();
});

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe("createBatchingProducer against the real broker", () => {
  test("sends issued together go out as one batch, and each caller gets its own offsets in order", async () => {
    await producer.send(requests, [edgeMessage()]); // partition metadata is now cached
    const before = producer.counters;
    const calls = Array.from({ length: 40 }, (_, i) => Array.from({ length: 1 + (i % 3) }, () => edgeMessage()));
    const results = await Promise.all(calls.map((messages) => producer.send(requests, messages)));

    const after = producer.counters;
    expect(after.batches - before.batches).toBe(1);
    expect(after.messages - before.messages).toBe(calls.flat().length);
    const stored = new Map(
      (await readMessages(kafka, requests, 1 + calls.flat().length)).map((m) => [positionOf(m), m]),
    );
    calls.forEach((messages, i) => {
      expect(results[i]).toHaveLength(messages.length);
      messages.forEach((message, j) => {
        const result = results[i]?.[j];
        expect(result?.topic).toBe(requests);
        const landed = stored.get(positionOf(result ?? { partition: -1, offset: -1 }));
        expect(landed?.value).toBe(message.value);
        expect(landed?.key).toBe(message.key);
        expect(landed?.headers.traceparent).toBe(message.headers[1]?.value ?? "");
      });
    });
  });

  test("while a batch is in flight, new sends queue and all go out in the next single batch", async () => {
    const before = producer.counters.batches;
    const first = producer.send(requests, [edgeMessage()]);
    await batchStarted(producer, before);
    const queued = Array.from({ length: 25 }, () => producer.send(requests, [edgeMessage()]));
    const results = (await Promise.all([first, ...queued])).flat();
    expect(producer.counters.batches - before).toBe(2);
    expect(new Set(results.map(positionOf)).size).toBe(26);
  });

  test("keys go where kafkajs's default (Java-compatible) partitioner puts them; explicit partitions are kept", async () => {
    const keys = Array.from({ length: 12 }, () => crypto.randomUUID());
    const plain = kafka.producer();
    await plain.connect();
    const expected = await Promise.all(
      keys.map(async (key) => (await plain.send({ topic: requests, messages: [{ key, value: "x" }] }))[0]?.partition),
    );
    await plain.disconnect();
    const batched = await producer.send(
      requests,
      keys.map((key) => ({ key, value: "x" })),
    );
    expect(batched.map((r) => r.partition)).toEqual(expected as number[]);
    expect(new Set(expected).size).toBeGreaterThan(1);

    const pinned = await producer.send(requests, [{ key: keys[0], value: "x", partition: 4 }]);
    expect(pinned[0]?.partition).toBe(4);
  });

  test("a round-robin topic's records take its partitions in turn, whatever their key; other topics still hash", async () => {
    const spreading = createBatchingProducer({
      kafka,
      logger: silentLogger,
      roundRobinTopics: roundRobinTopics(topics),
    });
    expect(await spreading.start()).toBe(true);
    try {
      const key = crypto.randomUUID();
      const first = await spreading.send(
        requests,
        Array.from({ length: 9 }, () => ({ key, value: "x" })),
      );
      const second = await spreading.send(requests, [
        { key, value: "x" },
        { key, value: "x", partition: 2 },
      ]);
      const turns = [...first, ...second.slice(0, 1)].map((r) => r.partition);
      // Ten in turn: each next partition follows the last, wrapping round.
      turns.slice(1).forEach((partition, i) => {
        expect(partition).toBe(((turns[i] ?? -1) + 1) % topics.requests.partitions);
      });
      expect(second[1]?.partition).toBe(2);

      const hashed = await spreading.send(
        topics.status.name,
        Array.from({ length: 4 }, () => ({ key, value: "x" })),
      );
      expect(new Set(hashed.map((r) => r.partition)).size).toBe(1);
    } finally {
      await spreading.close();
    }
  });

  test("a partition the topic does not have is refused before anything is written", async () => {
    const before = producer.counters.batches;
    const error = await rejection(producer.send(requests, [edgeMessage(), { ...edgeMessage(), partition: 6 }]));
    expect(error).toBeInstanceOf(PipelineError);
    expect(error).toMatchObject({ code: "invalid_partition", retryable: false });
    expect(producer.counters.batches).toBe(before);
  });

  test("a batch the broker refuses for its records fails every caller in it as not retryable, and the producer recovers", async () => {
    const topic = await freshTopic("small", [{ name: "max.message.bytes", value: "1024" }]);
    const value = "v".repeat(600);
    await producer.send(topic, [{ value: "partition metadata is now cached", partition: 1 }]);
    const before = producer.counters.batches;
    const first = producer.send(topic, [{ value: "small", partition: 0 }]);
    await batchStarted(producer, before);
    // Together they make a record batch over the topic's limit: Kafka refuses it, not retriable.
    const together = [producer.send(topic, [{ value, partition: 0 }]), producer.send(topic, [{ value, partition: 0 }])];
    expect((await first)[0]?.offset).toBe(0);
    for (const error of await Promise.all(together.map(rejection))) {
      expect(error).toBeInstanceOf(PipelineError);
      expect(error).toMatchObject({ code: "kafka_rejected", retryable: false, details: { type: "MESSAGE_TOO_LARGE" } });
    }
    expect(await endOffsetTotal(kafka, topic)).toBe(2);
    // The failed producer was replaced by a fresh one; the next send waits for it and succeeds.
    expect((await producer.send(topic, [{ value: "after", partition: 0 }]))[0]?.offset).toBe(1);
  });

  test("a batch kafkajs gave up retrying fails its callers as retryable", async () => {
    const fragile = createBatchingProducer({ kafka, logger: silentLogger, retries: 1 });
    expect(await fragile.start()).toBe(true);
    const topic = await freshTopic("vanishing");
    await fragile.send(topic, [{ value: "metadata is now cached" }]);
    await deleteTopic(topic);
    const errors = await Promise.all(
      [fragile.send(topic, [{ value: "a" }]), fragile.send(topic, [{ value: "b" }])].map(rejection),
    );
    for (const error of errors) expect(error).toMatchObject({ code: "kafka_unavailable", retryable: true });
    await fragile.close();
  });

  test("an unreachable broker fails sends at once as retryable, without a batch", async () => {
    const down = createBatchingProducer({
      kafka: testKafka(freshKafkaConfig({ KAFKA_BROKERS: "127.0.0.1:1" }), { retries: 0 }),
      logger: silentLogger,
    });
    expect(await down.start()).toBe(false);
    expect(down.connected).toBe(false);
    const error = await rejection(down.send(requests, [edgeMessage()]));
    expect(error).toMatchObject({ code: "kafka_unavailable", retryable: true });
    expect(down.counters.batches).toBe(0);
    await down.close();
  });

  test("with waitMs, a send is refused while a connection attempt to a hanging broker is still running", async () => {
    const silent = await startSilentBroker();
    const config = freshKafkaConfig({ KAFKA_BROKERS: silent.address });
    const hanging = createBatchingProducer({
      kafka: createKafka({ config, logger: silentLogger, retries: 1, requestTimeoutMs: 3000 }),
      logger: silentLogger,
      waitMs: 200,
    });
    let attemptEnded = false;
    const started = hanging.start().then((connected) => {
      attemptEnded = true;
      return connected;
    });
    try {
      const error = await rejection(hanging.send(requests, [edgeMessage()]));
      expect(error).toMatchObject({ code: "kafka_unavailable", retryable: true });
      // Refused while the attempt still hangs, not when it finally gives up.
      expect(attemptEnded).toBe(false);
      expect(hanging.counters.batches).toBe(0);
    } finally {
      expect(await started).toBe(false);
      await hanging.close();
      await silent.close();
    }
  }, 30_000);

  test("with waitMs, a send while Kafka is known to be away is refused at once, not after the running attempt", async () => {
    // A broker that drops every connection: the first attempt fails at once. Then it hangs: the
    // next attempt lasts its whole request timeout, far past the test's own.
    const silent = await startSilentBroker({ dropping: true });
    const config = freshKafkaConfig({ KAFKA_BROKERS: silent.address });
    const away = createBatchingProducer({
      kafka: createKafka({ config, logger: silentLogger, retries: 0, requestTimeoutMs: 60_000 }),
      logger: silentLogger,
      waitMs: 60_000,
    });
    try {
      expect(await away.start()).toBe(false);
      silent.hang();
      const deadline = Date.now() + 5_000;
      while (silent.connections === 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(silent.connections).toBeGreaterThan(0); // the next attempt is running, and hangs
      const error = await rejection(away.send(requests, [edgeMessage()]));
      expect(error).toMatchObject({ code: "kafka_unavailable", retryable: true });
      expect(silent.connections).toBeGreaterThan(0); // refused while it still runs
      expect(away.counters.batches).toBe(0);
    } finally {
      // Closing the broker's sockets ends the hanging attempt (kafkajs rejects what a closed
      // connection had in flight), so the producer's close does not wait out its 60 s.
      await silent.close();
      await away.close();
    }
  }, 20_000);

  test("close drains what was accepted, then refuses new sends; calling it twice is safe", async () => {
    const closing = createBatchingProducer({ kafka, logger: silentLogger });
    await closing.start();
    const accepted = Array.from({ length: 10 }, () => closing.send(requests, [edgeMessage()]));
    await Promise.all([closing.close(), closing.close()]);
    expect((await Promise.all(accepted)).flat()).toHaveLength(10);
    expect(closing.connected).toBe(false);
    expect(await rejection(closing.send(requests, [edgeMessage()]))).toMatchObject({ retryable: true });
    await closing.close();
  });
});
