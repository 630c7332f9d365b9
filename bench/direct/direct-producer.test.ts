import { afterAll, beforeAll, expect, test } from "bun:test";
import { PipelineError } from "../../shared/errors.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../../worker/gateway/batching-producer.ts";
import { createFreshTopics, readMessages, requestEvent } from "../../worker/gateway/gateway-fixtures.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../../worker/testing/kafka-test-env.ts";
import { directProducer } from "./direct-producer.ts";

const config = freshKafkaConfig();
const kafka = testKafka(config);
const requests = topicSpecs(config).requests.name;
const batching = createBatchingProducer({ kafka, logger: silentLogger });
const producer = directProducer(batching);

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  expect(await batching.start()).toBe(true);
});
afterAll(async () => {
  await batching.close();
  await deleteTestTopics(config);
});

test("a submit's record lands with the key, value and headers the edge sends the gateway, at the position it answers", async () => {
  expect(await producer.healthy()).toBe(true);
  const event = requestEvent();
  const traceparent = newTraceparent();
  const written = await producer.produce(requests, toKafkaMessage(RequestEvent, event, traceparent));
  const [read] = await readMessages(kafka, requests, 1);
  expect(read).toEqual({
    partition: written.partition,
    offset: written.offset,
    key: event.id,
    value: RequestEvent.encode(event),
    headers: { "content-type": "application/json", traceparent },
  });
  expect(written.topic).toBe(requests);
});

test("once the producer is closed it reports unhealthy and refuses to produce, retryably", async () => {
  const closing = createBatchingProducer({ kafka, logger: silentLogger });
  try {
    expect(await closing.start()).toBe(true);
  } finally {
    await closing.close();
  }
  const closed = directProducer(closing);
  expect(await closed.healthy()).toBe(false);
  const refused = await closed.produce(requests, toKafkaMessage(RequestEvent, requestEvent(), newTraceparent())).then(
    () => null,
    (error: unknown) => error,
  );
  expect(refused).toBeInstanceOf(PipelineError);
  expect(refused).toMatchObject({ code: "kafka_unavailable", retryable: true });
});
