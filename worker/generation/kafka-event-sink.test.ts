/**
 * The event sink's read-back (what Kafka already holds), against the real broker: it finds what
 * was written and nothing else, and a broker it cannot reach is a retryable "not known yet" —
 * never an error that would park a request whose outcome is claimed.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { isRetryable, PipelineError } from "../../shared/errors.ts";
import { CompleteEvent, StatusEvent } from "../../shared/events/events.ts";
import { toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics } from "../gateway/gateway-fixtures.ts";
import { completeEvent, loggedStatusEvent } from "../history/history-fixtures.ts";
import {
  deleteTestTopics,
  freshKafkaConfig,
  silentLogger,
  testKafka,
  unreachableKafka,
} from "../testing/kafka-test-env.ts";
import { kafkaEventSink } from "./kafka-event-sink.ts";

const config = freshKafkaConfig();
const topics = topicSpecs(config);
const kafka = testKafka(config);
const producer = createBatchingProducer({ kafka, logger: silentLogger });
const trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  await producer.start();
});
afterAll(async () => {
  await producer.close();
  await deleteTestTopics(config);
});

const user = "user-sink";
const status = (id: string, seq: number) => loggedStatusEvent(id, user, seq, { level: "info", message: `step ${seq}` });
const complete = (id: string) => completeEvent(user, 1, id);

test("finds the records Kafka holds, and not the ones it does not", async () => {
  const sink = kafkaEventSink(producer, kafka);
  const since = Date.now();
  const id = uuidv7();
  const sent = [
    { topic: topics.complete.name, message: toKafkaMessage(CompleteEvent, complete(id), trace) },
    { topic: topics.status.name, message: toKafkaMessage(StatusEvent, status(id, 5), trace) },
  ];
  await sink.send(sent);
  const unsent = [
    { topic: topics.status.name, message: toKafkaMessage(StatusEvent, status(id, 6), trace) },
    { topic: topics.complete.name, message: toKafkaMessage(CompleteEvent, complete(uuidv7()), trace) },
  ];
  expect(await sink.written([...sent, ...unsent], since)).toEqual([true, true, false, false]);
  // Written before `since`: not counted.
  expect(await sink.written(sent, Date.now() + 60_000)).toEqual([false, false]);
}, 60_000);

test("a broker it cannot reach is a retryable error, not a verdict", async () => {
  const away = unreachableKafka(config);
  const sink = kafkaEventSink(producer, away);
  const id = uuidv7();
  const error = await sink
    .written([{ topic: topics.status.name, message: toKafkaMessage(StatusEvent, status(id, 2), trace) }], 0)
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(PipelineError);
  expect(isRetryable(error)).toBe(true);
}, 60_000);
