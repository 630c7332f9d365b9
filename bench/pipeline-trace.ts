/**
 * `npx bun bench/pipeline-trace.ts`: where a generation's start and its progress events spend
 * their time on our path. Our stack runs as processes (bench/stacks.ts, 2 workers × 4); a Kafka
 * consumer of its own reads the request and status topics beside the pipeline.
 *
 * Start (small generations paced 20/s, clients in a child): the edge's `createdAt` → the request
 * record's CreateTime (stamped by the gateway's producer as it takes the write: the edge's work
 * before produce and the HTTP hop) → the worker's first `processing` `at` (the gateway's
 * acks=all write, the worker's fetch, its Redis checks).
 * Progress (browser-like sockets, bench/watchers.ts): worker `at` → readable from Kafka (seq,
 * the worker's producer queue, the acks=all write, the fetch) and `at` → the browser (the
 * worker's live apply, Redis pub/sub, the live server and the socket), also by the event's stage.
 */
import { parseConfig } from "../shared/config/parse-config.ts";
import { RequestEvent, StatusEvent } from "../shared/events/events.ts";
import { STAGES } from "../shared/job-states.ts";
import { topicSpecs } from "../shared/topics.ts";
import { testKafka } from "../worker/testing/kafka-test-env.ts";
import { runGenerations } from "./generation-client.ts";
import { startOurs } from "./stacks.ts";
import { fmt, type Summary, summarize } from "./stats.ts";
import { runWatchers } from "./watchers.ts";

const LOADS = [
  { label: "1 user, 5 sockets (one generation at a time)", sockets: 5 },
  { label: "200 users, 1,000 sockets (workers saturated)", sockets: 1000 },
];
const both = (s: Summary) => `${fmt(s.p50, 0)} / ${fmt(s.p99, 0)}`;

const stack = await startOurs({ workers: 2, maxConcurrent: 4 });
const kafkaConfig = parseConfig(stack.env, ["kafka"]).kafka;
const topics = topicSpecs(kafkaConfig);
const kafka = testKafka(kafkaConfig);
const groupId = `${kafkaConfig.consumerGroup}-trace`;
const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
/** Per generation: createdAt, the request record's CreateTime, the first `processing` at. */
type StartTimes = { createdAt?: number; recordAt?: number; startedAt?: number };
const starts = new Map<string, StartTimes>();
const complete = (s: StartTimes): s is Required<StartTimes> =>
  s.createdAt !== undefined && s.recordAt !== undefined && s.startedAt !== undefined;
const entry = (id: string) => starts.get(id) ?? starts.set(id, {}).get(id) ?? {};
let lags: number[] = [];
let joined = false;
consumer.on(consumer.events.GROUP_JOIN, () => {
  joined = true;
});
try {
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.requests.name, topics.status.name], fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (topic === topics.requests.name) {
        const request = RequestEvent.decode(message.value);
        if (!request.ok) return;
        const e = entry(request.value.id);
        e.createdAt = Date.parse(request.value.createdAt);
        e.recordAt = Number(message.timestamp);
        return;
      }
      const event = StatusEvent.decode(message.value);
      if (!event.ok || event.value.status !== "processing") return;
      lags.push(Date.now() - Date.parse(event.value.at));
      entry(event.value.id).startedAt ??= Date.parse(event.value.at);
    },
  });
  while (!joined) await Bun.sleep(50);
  console.log("Our stack (2 workers × 4, processes as npm start), ms as p50 / p99; timestamps have 1 ms resolution\n");

  const tokens = [await stack.token("trace-user")];
  const body = { prompt: "trace", width: 256, height: 256 };
  await runGenerations({ edgeUrl: stack.edgeUrl, tokens, bodies: [body], count: 16, mode: "paced", intervalMs: 30 });
  starts.clear();
  await runGenerations({ edgeUrl: stack.edgeUrl, tokens, bodies: [body], count: 100, mode: "paced", intervalMs: 50 });
  const seen = [...starts.values()].filter(complete);
  console.log(`Start of ${seen.length} small generations paced 20/s:`);
  console.log(
    `  edge createdAt → request record CreateTime (edge work, HTTP to the gateway)  ${both(summarize(seen.map((s) => s.recordAt - s.createdAt)))}`,
  );
  console.log(
    `  record CreateTime → worker's first processing at (acks=all, fetch, Redis)    ${both(summarize(seen.map((s) => s.startedAt - s.recordAt)))}`,
  );
  console.log(
    `  edge createdAt → worker's first processing at                                 ${both(summarize(seen.map((s) => s.startedAt - s.createdAt)))}`,
  );

  console.log("\nProgress events:                                 at → on Kafka    at → browser    messages");
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
      `  ${load.label.padEnd(46)} ${both(onKafka).padStart(14)} ${`${browser.p50} / ${browser.p99}`.padStart(15)} ${String(browser.count).padStart(11)}`,
    );
    const stages = STAGES.flatMap((stage) => {
      const s = watched.byStage[stage];
      return s ? [`${stage} ${s.p50} / ${s.p99} (${s.count})`] : [];
    });
    console.log(`    at → browser by stage (messages): ${stages.join(", ")}`);
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
