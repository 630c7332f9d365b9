/**
 * Parking on the real broker: a poison message too large for the dead-letter topic once wrapped
 * (base64 grows it by a third) is parked without its value, so its consumer can move on instead
 * of retrying it forever.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PipelineError } from "../../shared/errors.ts";
import { DEAD_LETTER_HEADERS, DeadLetterEvent } from "../../shared/events/dead-letter-event.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics, readMessages } from "../gateway/gateway-fixtures.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { createDeadLetters } from "./dead-letters.ts";

const config = freshKafkaConfig();
const specs = topicSpecs(config);
const kafka = testKafka(config);
const producer = createBatchingProducer({ kafka, logger: silentLogger });

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
});
afterAll(async () => {
  await producer.close();
  await deleteTestTopics(config);
});

test("a message too large for the dead-letter topic is parked without its value: reason, source and size", async () => {
  // 900 KB: within what the source topic takes (the broker's 1 MiB default), over it once base64-wrapped.
  const value = "x".repeat(900_000);
  const [written] = await producer.send(specs.requests.name, [{ key: "oversized", value }]);
  const [read] = await readMessages(kafka, specs.requests.name, 1);
  expect(read?.value.length).toBe(value.length);

  const deadLetters = createDeadLetters({
    producer,
    topic: specs.deadLetter.name,
    consumer: "test-consumer",
    logger: silentLogger,
  });
  const source = {
    kind: "kafka" as const,
    topic: specs.requests.name,
    partition: written?.partition ?? 0,
    offset: String(written?.offset ?? 0),
  };
  await deadLetters.park({
    source,
    key: read?.key ?? null,
    value: read?.value ?? null,
    error: new PipelineError("invalid_event", "does not decode"),
  });
  expect(deadLetters.parked).toBe(1);

  const [parked] = await readMessages(kafka, specs.deadLetter.name, 1);
  expect(parked?.headers[DEAD_LETTER_HEADERS.valueBytes]).toBe("900000");
  expect(parked?.headers[DEAD_LETTER_HEADERS.offset]).toBe(source.offset);
  const letter = DeadLetterEvent.decode(parked?.value ?? "");
  if (!letter.ok) throw new Error("the dead letter does not decode");
  expect(letter.value).toMatchObject({
    consumer: "test-consumer",
    source,
    error: { code: "invalid_event", message: "does not decode" },
    keyBase64: btoa("oversized"),
    valueBytes: 900_000,
  });
  expect(letter.value.valueBase64).toBeUndefined();

  // A small poison message still travels whole.
  await deadLetters.park({ source, key: "small", value: "{not json", error: new PipelineError("invalid_event", "x") });
  // The two letters may sit on different partitions, which a reader gets in either order.
  const letters = (await readMessages(kafka, specs.deadLetter.name, 2)).map((m) => DeadLetterEvent.decode(m.value));
  const smallLetter = letters.find((l) => l.ok && l.value.keyBase64 === btoa("small"));
  expect(smallLetter?.ok && atob(smallLetter.value.valueBase64 ?? "")).toBe("{not json");
}, 60_000);
