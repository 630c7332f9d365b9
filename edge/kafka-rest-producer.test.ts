/**
 * How the edge reads a Kafka REST endpoint's answers. The real gateway is exercised in
 * tests/edge-gateway; here a stand-in `fetch` gives the answers it never gives (a success without
 * positions, Upstash's own 429), in Upstash's documented shapes.
 */
import { describe, expect, test } from "bun:test";
import { PipelineError } from "../shared/errors.ts";
import { RequestEvent } from "../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../shared/events/kafka-message.ts";
import { requestEvent } from "../worker/gateway/gateway-fixtures.ts";
import { createRestProducer } from "./kafka-rest-producer.ts";
import { coalesceProduces } from "./produce-coalescer.ts";

const position = { topic: "t", partition: 0, offset: 7, timestamp: 1 };
const message = () => toKafkaMessage(RequestEvent, requestEvent(), newTraceparent());

/** A producer whose endpoint answers `status` with `body` (a string is sent as is), counting calls. */
function answering(status: number, body: unknown) {
  let calls = 0;
  const producer = createRestProducer({
    url: "http://kafka-rest.invalid",
    username: "u",
    password: "p",
    fetch: (async () => {
      calls++;
      return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
    }) as unknown as typeof fetch,
  });
  return { producer, calls: () => calls };
}

const failure = async (call: Promise<unknown>) => {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PipelineError);
  const { code, retryable } = error as PipelineError;
  return { code, retryable };
};

describe("a Kafka REST endpoint's answers", () => {
  test("positions: one object or a list for one message, a list in order for several", async () => {
    expect(await answering(200, position).producer.produce("t", message())).toEqual(position);
    expect(await answering(200, [position]).producer.produce("t", message())).toEqual(position);
    const second = { ...position, offset: 8 };
    const records = [message(), message()].map((m) => ({ topic: "t", message: m }));
    expect(await answering(200, [position, second]).producer.produceMany(records)).toEqual([position, second]);
  });

  test.each([
    [400, "message_rejected", false, { error: "invalid message", status: 400 }],
    [413, "message_rejected", false, { error: "too large", status: 413 }],
    [401, "produce_rejected", false, { error: "wrong credentials", status: 401 }],
    [403, "produce_rejected", false, { error: "topic", status: 403 }],
    [429, "produce_rejected", true, { error: "rate limited", status: 429 }],
    [503, "unavailable", true, { error: "kafka away", status: 503 }],
    [502, "unavailable", true, "<html>bad gateway</html>"],
  ] as const)("HTTP %d → %s", async (status, code, retryable, body) => {
    expect(await failure(answering(status, body).producer.produce("t", message()))).toEqual({ code, retryable });
  });

  test.each([
    ["no positions", []],
    ["fewer positions than messages", [position]],
    ["an error beside a success", { error: "odd" }],
    ["no JSON", "ok"],
  ])("a success with %s is unconfirmed: the messages may be written", async (_, body) => {
    const records = [message(), message()].map((m) => ({ topic: "t", message: m }));
    expect(await failure(answering(200, body).producer.produceMany(records))).toEqual({
      code: "produce_unconfirmed",
      retryable: false,
    });
  });

  test("an endpoint that cannot be reached is unavailable, retryable", async () => {
    const producer = createRestProducer({
      url: "http://kafka-rest.invalid",
      username: "u",
      password: "p",
      fetch: (async () => {
        throw new TypeError("fetch failed");
      }) as unknown as typeof fetch,
    });
    expect(await failure(producer.produce("t", message()))).toEqual({ code: "unavailable", retryable: true });
  });

  test("grouped produces answered with a success they cannot read all fail, none sent again", async () => {
    const endpoint = answering(200, []);
    const grouped = coalesceProduces(endpoint.producer, { nextTurn: setImmediate });
    const outcomes = await Promise.all([message(), message(), message()].map((m) => failure(grouped.produce("t", m))));
    for (const outcome of outcomes) expect(outcome.code).toBe("produce_unconfirmed");
    expect(endpoint.calls()).toBe(1);
  });
});
