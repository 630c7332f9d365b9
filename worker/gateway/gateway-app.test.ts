import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { UpstashError, Kafka as UpstashKafka } from "@upstash/kafka";
import { topicSpecs } from "../../shared/topics.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { type BatchingProducer, createBatchingProducer } from "./batching-producer.ts";
import { createKafkaRestGateway } from "./gateway-app.ts";
import {
  createFreshTopics,
  edgeMessage,
  endOffsetTotal,
  positionOf,
  readMessages,
  requestEvent,
} from "./gateway-fixtures.ts";

const config = freshKafkaConfig();
const kafka = testKafka(config);
const requests = topicSpecs(config).requests.name;
const credentials = { username: "pixel-edge", password: `test-${crypto.randomUUID()}` };
const basic = (user: string, pass: string) => `Basic ${btoa(`${user}:${pass}`)}`;
const producer = createBatchingProducer({ kafka, logger: silentLogger });
const servers: { stop(force?: boolean): Promise<void> }[] = [];

function serve(batching: BatchingProducer): string {
  const app = createKafkaRestGateway({
    producer: batching,
    ...credentials,
    allowedTopics: [requests],
    logger: silentLogger,
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  servers.push(server);
  return server.url.href.replace(/\/$/, "");
}

let url = "";
/** The edge's client, unchanged: it retries every failed call 5 times, so refusals take ~15 s to surface. */
const edge = (password = credentials.password, base = url) =>
  new UpstashKafka({ url: base, username: credentials.username, password }).producer();

/** The HTTP status `@upstash/kafka` surfaced, or "ok". */
const outcome = (call: Promise<unknown>) =>
  call.then(
    () => "ok" as const,
    (error: unknown) => (error instanceof UpstashError ? error.status : error),
  );

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: "POST",
    body,
    headers: {
      authorization: basic(credentials.username, credentials.password),
      "content-type": "application/json",
      ...headers,
    },
  });

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
  url = serve(producer);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(true)));
  await producer.close();
  await deleteTestTopics(config);
});

describe("Kafka REST gateway through the real @upstash/kafka client", () => {
  test("request events land in Kafka with their key, value and headers, where the gateway said", async () => {
    const keyed = edgeMessage();
    const unkeyed = edgeMessage();
    const many = [edgeMessage(), edgeMessage(), edgeMessage()];
    const startedAt = Date.now();
    const one = await edge().produce(requests, keyed.value, { key: keyed.key, headers: keyed.headers });
    const defaulted = await edge().produce(requests, unkeyed.value, { headers: unkeyed.headers });
    const batch = await edge().produceMany(many.map((m) => ({ topic: requests, ...m })));

    const sent = [keyed, unkeyed, ...many];
    const answers = [one, defaulted, ...batch];
    for (const answer of answers) expect(answer).toEqual(expect.objectContaining({ topic: requests }));
    expect(typeof one.offset).toBe("number");
    expect(one.timestamp).toBeGreaterThanOrEqual(startedAt);
    expect(one.timestamp).toBeLessThanOrEqual(Date.now());
    const stored = new Map((await readMessages(kafka, requests, sent.length)).map((m) => [positionOf(m), m]));
    sent.forEach((message, i) => {
      const landed = stored.get(positionOf(answers[i] ?? { partition: -1, offset: -1 }));
      expect(landed?.value).toBe(message.value);
      expect(landed?.key).toBe(message.key); // the key defaults to the event id
      expect(landed?.headers).toEqual(Object.fromEntries(message.headers.map((h) => [h.key, h.value])));
    });
  });

  test("POST /produce/{topic} answers one object for one message and a list for a list", async () => {
    const single = await post(`/produce/${requests}`, JSON.stringify(edgeMessage()));
    expect(single.status).toBe(200);
    expect(await single.json()).toEqual({
      topic: requests,
      partition: expect.any(Number),
      offset: expect.any(Number),
      timestamp: expect.any(Number),
    });
    const list = await post(`/produce/${requests}`, JSON.stringify([edgeMessage(), edgeMessage()]));
    const answers = (await list.json()) as { offset: number; partition: number }[];
    expect(answers).toHaveLength(2);
    expect(new Set(answers.map(positionOf)).size).toBe(2);
  });

  test("invalid events (400), wrong credentials (401) and other topics (403) are refused and write nothing", async () => {
    const before = await endOffsetTotal(kafka, requests);
    const good = edgeMessage();
    const event = JSON.parse(good.value) as Record<string, unknown>;
    const badSchema = JSON.stringify({ ...event, params: { ...(event.params as object), width: 100 } });
    const statuses = await Promise.all([
      outcome(edge().produce(requests, "{not json", { key: good.key })),
      outcome(edge().produce(requests, badSchema)),
      outcome(edge().produce(requests, good.value, { key: uuidv7() })),
      outcome(
        edge().produceMany([
          { topic: requests, ...good },
          { topic: requests, value: badSchema },
        ]),
      ),
      outcome(edge("not-the-password").produce(requests, good.value)),
      outcome(edge().produce(topicSpecs(config).status.name, good.value)),
      outcome(
        edge().produceMany([
          { topic: requests, ...good },
          { topic: `${requests}-other`, ...edgeMessage() },
        ]),
      ),
    ]);
    expect(statuses).toEqual([400, 400, 400, 400, 401, 403, 403]);

    const anonymous = await fetch(`${url}/produce/${requests}`, { method: "POST", body: good.value });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: "missing or wrong credentials", status: 401 });
    const mismatch = await post(`/produce/${requests}`, JSON.stringify({ ...good, key: uuidv7() }));
    expect(await mismatch.json()).toEqual({
      error: `invalid message: key must equal the event id ${good.key}`,
      status: 400,
    });
    const invalid = await post(
      "/produce",
      JSON.stringify([
        { topic: requests, ...good },
        { topic: requests, value: badSchema },
      ]),
    );
    expect(await invalid.json()).toEqual({
      error: "invalid message: [1].value is not a valid request event (params.width must be at least 256)",
      status: 400,
    });
    expect(await endOffsetTotal(kafka, requests)).toBe(before);
  });

  test("200 concurrent produces all succeed at distinct positions, in far fewer batches", async () => {
    const before = producer.counters;
    const offsetsBefore = await endOffsetTotal(kafka, requests);
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => {
        const m = edgeMessage();
        return edge().produce(requests, m.value, { key: m.key, headers: m.headers });
      }),
    );
    expect(new Set(answers.map(positionOf)).size).toBe(200);
    const after = producer.counters;
    expect(after.messages - before.messages).toBe(200);
    expect(after.batches - before.batches).toBeLessThan(50);
    expect(await endOffsetTotal(kafka, requests)).toBe(offsetsBefore + 200);
  });

  test("HTTP-level refusals answer in Upstash's error shape", async () => {
    const tooBig = await post(`/produce/${requests}`, JSON.stringify({ value: "x".repeat(1024 * 1024) }));
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ status: 413 });
    const text = await post(`/produce/${requests}`, requestEvent().id, { "content-type": "text/plain" });
    expect(await text.json()).toEqual({ error: "the request body must be application/json", status: 415 });
    const garbled = await post(`/produce/${requests}`, "{");
    expect(await garbled.json()).toEqual({ error: "the request body is not valid JSON", status: 400 });
    const shape = await post("/produce", JSON.stringify({ value: edgeMessage().value, partition: -1 }));
    expect(await shape.json()).toEqual({
      error: "invalid message: partition must be at least 0; topic is required",
      status: 400,
    });
    const unknown = await fetch(`${url}/consume/group/instance/${requests}`, { method: "POST" });
    expect(await unknown.json()).toEqual({
      error: `no route for POST /consume/group/instance/${requests}`,
      status: 404,
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  test("with Kafka unreachable, produces answer 503 (retryable) and health answers 503", async () => {
    const down = createBatchingProducer({
      kafka: testKafka(freshKafkaConfig({ KAFKA_BROKERS: "127.0.0.1:1" }), { retries: 0 }),
      logger: silentLogger,
    });
    expect(await down.start()).toBe(false);
    const downUrl = serve(down);
    const message = edgeMessage();
    expect(await outcome(edge(credentials.password, downUrl).produce(requests, message.value))).toBe(503);
    const direct = await fetch(`${downUrl}/produce/${requests}`, {
      method: "POST",
      body: JSON.stringify(message),
      headers: { authorization: basic(credentials.username, credentials.password), "content-type": "application/json" },
    });
    expect(direct.status).toBe(503);
    expect(direct.headers.get("retry-after")).toBe("1");
    expect(await direct.json()).toEqual({ error: "Kafka is unavailable; retry later", status: 503 });
    expect(down.counters.batches).toBe(0);
    expect((await fetch(`${downUrl}/`)).status).toBe(503);
    expect((await fetch(`${downUrl}/readyz`)).status).toBe(503);
    await down.close();
  });
});
