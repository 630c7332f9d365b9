/**
 * The Bun edge's group commit (edge/produce-coalescer.ts) against the real Kafka REST gateway
 * and the real broker: what counts is what lands in Kafka and how many HTTP calls carried it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestProducer } from "../../edge/kafka-rest-producer.ts";
import { coalesceProduces, sizeBound } from "../../edge/produce-coalescer.ts";
import { PipelineError } from "../../shared/errors.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../../worker/gateway/batching-producer.ts";
import { createKafkaRestGateway } from "../../worker/gateway/gateway-app.ts";
import {
  createFreshTopics,
  endOffsetTotal,
  positionOf,
  readMessages,
  requestEvent,
} from "../../worker/gateway/gateway-fixtures.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../../worker/testing/kafka-test-env.ts";

const config = freshKafkaConfig();
const kafka = testKafka(config);
const requests = topicSpecs(config).requests.name;
const credentials = { username: "pixel-edge", password: `test-${crypto.randomUUID()}` };
const batching = createBatchingProducer({ kafka, logger: silentLogger });
let server: ReturnType<typeof Bun.serve> | undefined;

/** The edge's producer over the gateway, with every HTTP call it makes recorded (path, messages). */
function edgeProducer(options: { url?: string; password?: string; maxMessages?: number; maxBytes?: number } = {}) {
  const calls: { path: string; messages: number }[] = [];
  const counting = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const body = JSON.parse(String(init?.body ?? "null")) as unknown;
    calls.push({ path: new URL(String(input)).pathname, messages: Array.isArray(body) ? body.length : 1 });
    return fetch(input, init);
  }) as typeof fetch;
  const rest = createRestProducer({
    url: options.url ?? (server?.url.href.replace(/\/$/, "") as string),
    username: credentials.username,
    password: options.password ?? credentials.password,
    timeoutMs: 5000,
    fetch: counting,
  });
  const producer = coalesceProduces(rest, {
    nextTurn: setImmediate,
    maxMessages: options.maxMessages,
    maxBytes: options.maxBytes,
  });
  return { producer, calls };
}

const message = (event = requestEvent()) => toKafkaMessage(RequestEvent, event, newTraceparent());

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await batching.start();
  const app = createKafkaRestGateway({
    producer: batching,
    ...credentials,
    allowedTopics: [requests],
    logger: silentLogger,
  });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
});
afterAll(async () => {
  await server?.stop(true);
  await batching.close();
  await deleteTestTopics(config);
});

describe("submits of one event-loop turn produce in one call", () => {
  test("twenty at once: one HTTP call, and each lands in Kafka where its own answer says", async () => {
    const { producer, calls } = edgeProducer();
    const before = await endOffsetTotal(kafka, requests);
    const sent = Array.from({ length: 20 }, () => message());
    const answers = await Promise.all(sent.map((m) => producer.produce(requests, m)));

    expect(calls).toEqual([{ path: "/produce", messages: 20 }]);
    expect(new Set(answers.map(positionOf)).size).toBe(20);
    expect((await endOffsetTotal(kafka, requests)) - before).toBe(20);
    const stored = new Map((await readMessages(kafka, requests, before + 20)).map((m) => [positionOf(m), m]));
    sent.forEach((m, i) => {
      const landed = stored.get(positionOf(answers[i] as { partition: number; offset: number }));
      expect(landed?.key).toBe(m.key);
      expect(landed?.value).toBe(m.value);
    });
  });

  test("one alone goes at the next turn in a call of its own", async () => {
    const { producer, calls } = edgeProducer();
    const answer = await producer.produce(requests, message());
    expect(calls).toEqual([{ path: `/produce/${requests}`, messages: 1 }]);
    expect(typeof answer.offset).toBe("number");
    // Later turns make calls of their own.
    await producer.produce(requests, message());
    expect(calls).toHaveLength(2);
  });

  test("a turn's produces are split into calls of at most maxMessages, in order", async () => {
    const { producer, calls } = edgeProducer({ maxMessages: 5 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => producer.produce(requests, message())));
    expect(calls.map((c) => c.messages)).toEqual([5, 5, 2]);
    expect(new Set(answers.map(positionOf)).size).toBe(12);
  });

  test("a turn's produces are split into calls of at most about maxBytes; one larger goes alone", async () => {
    const sent = Array.from({ length: 5 }, () => message());
    const big = message(requestEvent({ params: { ...requestEvent().params, prompt: "p".repeat(900) } }));
    const ordinary = sizeBound(sent[0] as ReturnType<typeof message>);
    // Room for two ordinary messages per call, not three; the big one, over the limit, alone.
    const maxBytes = ordinary * 2 + ordinary / 2;
    expect(sizeBound(big)).toBeGreaterThan(maxBytes);
    const { producer, calls } = edgeProducer({ maxBytes });
    const answers = await Promise.all(
      [...sent.slice(0, 3), big, ...sent.slice(3)].map((m) => producer.produce(requests, m)),
    );
    // Calls of two, one, one and two (a call of one starts a microtask later, so not in that order).
    expect(calls.map((c) => c.messages).sort()).toEqual([1, 1, 2, 2]);
    expect(new Set(answers.map(positionOf)).size).toBe(6);
  });

  test("a refusal of every message alike (wrong credentials) fails the call's produces without sending each again", async () => {
    const { producer, calls } = edgeProducer({ password: "wrong" });
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => producer.produce(requests, message())));
    for (const outcome of outcomes) {
      const reason = (outcome as PromiseRejectedResult).reason as PipelineError;
      expect(reason.code).toBe("produce_rejected");
      expect(reason.retryable).toBe(false);
    }
    expect(calls).toEqual([{ path: "/produce", messages: 4 }]);
  });

  test("a message the gateway refuses fails alone: the others of its call are written", async () => {
    const { producer, calls } = edgeProducer();
    const before = await endOffsetTotal(kafka, requests);
    const good = Array.from({ length: 5 }, () => message());
    const bad = { ...message(), value: JSON.stringify({ not: "a request event" }) };
    const outcomes = await Promise.allSettled(
      [...good.slice(0, 2), bad, ...good.slice(2)].map((m) => producer.produce(requests, m)),
    );

    const refused = outcomes[2];
    expect(refused?.status).toBe("rejected");
    const reason = (refused as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(PipelineError);
    expect((reason as PipelineError).code).toBe("message_rejected");
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(5);
    // The call of six was refused whole (nothing written), then each went alone.
    expect(calls.map((c) => c.messages)).toEqual([6, 1, 1, 1, 1, 1, 1]);
    expect((await endOffsetTotal(kafka, requests)) - before).toBe(5);
    const values = new Set((await readMessages(kafka, requests, before + 5)).map((m) => m.value));
    for (const m of good) expect(values.has(m.value)).toBe(true);
    expect(values.has(bad.value)).toBe(false);
  });

  test("an endpoint that cannot be reached fails every produce of the call as retryable, none hangs", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = closed.url.href.replace(/\/$/, "");
    await closed.stop(true);
    const { producer, calls } = edgeProducer({ url });
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => producer.produce(requests, message())));
    // One call for the four, failed as a whole: none is sent again (it may have been written).
    expect(calls).toEqual([{ path: "/produce", messages: 4 }]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const reason = (outcome as PromiseRejectedResult).reason as PipelineError;
      expect(reason.code).toBe("unavailable");
      expect(reason.retryable).toBe(true);
    }
  });
});
