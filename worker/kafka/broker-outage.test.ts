/**
 * Back after a broker outage: a broker of this test's own is stopped for longer than kafkajs's
 * retries last (its consumers crash and restart meanwhile) and started again. The producer and
 * the consumer are both working again long before the 60 s session timeout configured here: the
 * member the crashed consumer left behind — which the restarted broker reloads with the group —
 * is removed by the process itself instead of being waited out, as soon as the broker has loaded
 * the group. A write met by the outage fails as retryable, whatever kafkajs wraps the refused
 * connection in.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type PrivateKafka, startPrivateKafka } from "../../infrastructure/kafka/private-kafka.ts";
import { portOpen } from "../../infrastructure/process-tools.ts";
import type { RequestEvent } from "../../shared/events/events.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createFreshTopics, edgeMessage, requestEvent } from "../gateway/gateway-fixtures.ts";
import { createRedis, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { testStatusRelay } from "../relay/relay-fixtures.ts";
import type { StatusRelay } from "../relay/status-relay.ts";
import { freshKafkaConfig, groupMembers, joinedMember, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { type Kafka, leaveGroupFor } from "./kafka-client.ts";

const SESSION_TIMEOUT_MS = 60_000;
let broker: PrivateKafka;
let kafka: Kafka;
let redis: Redis;
let relay: StatusRelay;
let producer: ReturnType<typeof createBatchingProducer>;
/** As the gateway's: refuses what would wait on Kafka longer than WAIT_MS. */
let gated: ReturnType<typeof createBatchingProducer>;
const WAIT_MS = 300;
const prefix = freshPrefix();

beforeAll(async () => {
  broker = await startPrivateKafka();
  const config = freshKafkaConfig({
    KAFKA_BROKERS: broker.brokers,
    KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
  });
  kafka = testKafka(config, { retries: 5 });
  await createFreshTopics(kafka, config);
  const topics = topicSpecs(config);
  redis = await createRedis(TEST_REDIS_URL);
  producer = createBatchingProducer({ kafka, logger: silentLogger });
  await producer.start();
  gated = createBatchingProducer({ kafka, logger: silentLogger, waitMs: WAIT_MS });
  await gated.start();
  relay = testStatusRelay({ kafka, config, redis, prefix, producer, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  await relay.start();
  while (!relay.ready) await Bun.sleep(50);
  requestsTopic = topics.requests.name;
  groupPrefix = config.consumerGroup;
}, 180_000);
afterAll(async () => {
  await relay.stop();
  await producer.close();
  await gated.close();
  await deleteKeys(redis, prefix);
  redis.close();
  await broker.remove();
}, 60_000);

let requestsTopic = "";
let groupPrefix = "";
const requests = (n: number) => Array.from({ length: n }, () => requestEvent());
const send = (events: RequestEvent[]) =>
  producer.send(
    requestsTopic,
    events.map((e) => edgeMessage(e)),
  );
const applied = async (events: RequestEvent[]) =>
  (await Promise.all(events.map((e) => redis.send("EXISTS", [redisKeys(prefix).snapshot(e.id)])))).every(
    (n) => Number(n) === 1,
  );
async function within(ms: number, check: () => Promise<boolean>): Promise<number | null> {
  const began = Date.now();
  while (Date.now() - began < ms) {
    if (await check().catch(() => false)) return Date.now() - began;
    await Bun.sleep(100);
  }
  return null;
}

test("after a broker outage the producer and the consumer are back well within the session timeout", async () => {
  const warm = requests(12);
  await send(warm);
  await gated.send(requestsTopic, [edgeMessage()]); // its partition metadata is now cached
  expect(await within(30_000, () => applied(warm))).not.toBeNull();

  // A member of a group of its own that the outage leaves behind, as a crashed consumer's.
  const stale = await joinedMember(kafka, `${groupPrefix}-stale`, requestsTopic);
  await broker.stop();
  await stale.consumer.disconnect(); // its LeaveGroup meets no broker: the member stays on record
  // A write kafkajs keeps retrying holds its batch in flight; what comes behind it is refused,
  // never sent, once it has waited WAIT_MS — long before kafkajs gives the first one up.
  const sentBefore = gated.counters;
  let firstSettled = false;
  const first = gated.send(requestsTopic, [edgeMessage()]).finally(() => {
    firstSettled = true;
  });
  first.catch(() => {});
  while (gated.counters.batches === sentBefore.batches) await Bun.sleep(5);
  const behind = await gated.send(requestsTopic, [edgeMessage()]).then(
    () => null,
    (error: unknown) => error,
  );
  expect(behind).toMatchObject({ code: "kafka_unavailable", retryable: true });
  expect(firstSettled).toBe(false);
  expect(gated.counters.messages - sentBefore.messages).toBe(1);
  // A write met by the outage is retryable (the gateway answers 503, a worker waits it out),
  // never "rejected": nothing about the records is wrong, so nothing may be parked for it.
  const refused = await send(requests(1)).then(
    () => null,
    (error: unknown) => error,
  );
  expect(refused).toMatchObject({ code: "kafka_unavailable", retryable: true });
  // Longer than a consumer's retries last: it crashes (and kafkajs restarts it) meanwhile.
  await Bun.sleep(12_000);
  expect(relay.crashes).toBeGreaterThan(0);
  let started = false;
  const starting = broker.start().finally(() => {
    started = true;
  });
  starting.catch(() => {}); // awaited below
  const [host = "", port = ""] = broker.brokers.split(":");
  while (!started && !(await portOpen(host, Number(port), 500))) await Bun.sleep(5);
  const answeredAt = Date.now();
  // Asked the moment the broker accepts connections, while it still loads its groups: the removal
  // waits for the load rather than failing with "loading" or "not the coordinator". The count
  // printed shows the wait happened: it did in each of the last three runs here, and with the
  // wait removed the test failed in both runs tried.
  const notReady: string[] = [];
  const leaving = leaveGroupFor(kafka, stale.groupId, stale.memberId, {
    waitForCoordinatorMs: 30_000,
    onNotReady: (reason) => notReady.push(reason),
  });
  expect(await leaving).toBe("left");
  await starting;
  console.log(`broker outage: the stale member's group was not ready ${notReady.length} times: ${notReady.join(", ")}`);
  expect(await groupMembers(kafka, stale.groupId)).not.toContain(stale.memberId);

  const after = requests(12);
  const producedMs = await within(SESSION_TIMEOUT_MS, () => send(after).then(() => true));
  const consumedMs = await within(SESSION_TIMEOUT_MS, () => applied(after));
  console.log(
    `broker outage: producer sent again ${producedMs} ms, consumer applied every new record ${Date.now() - answeredAt} ms after the broker accepted connections`,
  );
  expect(producedMs).not.toBeNull();
  expect(consumedMs).not.toBeNull();
  expect(Date.now() - answeredAt).toBeLessThan(SESSION_TIMEOUT_MS);
}, 240_000);
