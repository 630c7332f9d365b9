/**
 * `npx bun bench/progress-trace.ts`: where a progress event's time goes on our path, at two
 * loads. Our stack runs as processes (bench/stacks.ts, 2 workers × 4); browser-like clients watch
 * their generations on WebSockets (bench/watchers.ts) while a Kafka consumer of its own reads the
 * status topic. Per event: worker `at` → readable from Kafka (the worker's seq, its producer's
 * queue and the acks=all write, the fetch) and `at` → the browser (all of it); the difference
 * is the relay's Lua and PUBLISH, Redis pub/sub, the live server and the socket.
 */
import { parseConfig } from "../shared/config/parse-config.ts";
import { StatusEvent } from "../shared/events/events.ts";
import { topicSpecs } from "../shared/topics.ts";
import { testKafka } from "../worker/testing/kafka-test-env.ts";
import { startOurs } from "./stacks.ts";
import { fmt, summarize } from "./stats.ts";
import { runWatchers } from "./watchers.ts";

const LOADS = [
  { label: "1 user, 5 sockets (one generation at a time)", sockets: 5 },
  { label: "200 users, 1,000 sockets (workers saturated)", sockets: 1000 },
];

const stack = await startOurs({ workers: 2, maxConcurrent: 4 });
const kafkaConfig = parseConfig(stack.env, ["kafka"]).kafka;
const kafka = testKafka(kafkaConfig);
const groupId = `${kafkaConfig.consumerGroup}-trace`;
const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
let lags: number[] = [];
let joined = false;
consumer.on(consumer.events.GROUP_JOIN, () => {
  joined = true;
});
try {
  await consumer.connect();
  await consumer.subscribe({ topics: [topicSpecs(kafkaConfig).status.name], fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = StatusEvent.decode(message.value);
      if (event.ok && event.value.status === "processing") lags.push(Date.now() - Date.parse(event.value.at));
    },
  });
  while (!joined) await Bun.sleep(50);
  console.log("Progress event timeline on our stack (2 workers × 4), ms; `at` has 1 ms resolution\n");
  console.log("load                                             at → on Kafka p50/p99    at → browser p50/p99    msgs");
  for (const load of LOADS) {
    lags = [];
    const watched = await runWatchers({
      edgeUrl: stack.edgeUrl,
      wsUrl: stack.wsUrl,
      jwtSecret: stack.jwtSecret,
      sockets: load.sockets,
      perGeneration: 5,
      warmupMs: 3000,
      measureMs: 8000,
    });
    const onKafka = summarize(lags.slice(Math.floor(lags.length / 4)));
    const browser = watched.latency;
    console.log(
      `${load.label.padEnd(48)} ${`${fmt(onKafka.p50, 0)} / ${fmt(onKafka.p99, 0)}`.padStart(22)} ${`${browser.p50} / ${browser.p99}`.padStart(23)} ${String(browser.count).padStart(7)}`,
    );
  }
} finally {
  await consumer.disconnect().catch(() => {});
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => {});
  await admin.disconnect();
  await stack.stop();
}
process.exit(0);
