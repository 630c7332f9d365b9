/**
 * `npx bun bench/kafka-clients.bench.ts`: kafkajs, the product's client, against
 * @platformatic/kafka on this machine's broker, each in a child process of its own, alternating:
 * an idempotent acks=all producer one send at a time and with 64 callers, produce → consume
 * latency for a group member with a 100 ms fetch wait (the relay's), and the CPU an idle group
 * member with a connected producer burns, with a 100 ms and a 5 s fetch wait. Fresh topics and
 * groups, deleted at the end. The product is not switched: this says what switching the one
 * wrapper would give.
 */
import { topicSpecs } from "../shared/topics.ts";
import { ensureTopics } from "../worker/kafka/topic-admin.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../worker/testing/kafka-test-env.ts";
import { type ClientName, type ClientPlan, type ClientResult, runClient } from "./kafka-client-run.ts";
import { fmt } from "./stats.ts";

const config = freshKafkaConfig();
const specs = topicSpecs(config);
const admin = testKafka(config).admin();
await admin.connect();
await ensureTopics(admin, [specs.requests, specs.status]);
const CLIENTS: ClientName[] = ["kafkajs", "platformatic"];
const groups: string[] = [];
const results = new Map<string, ClientResult>();
try {
  for (const [scenario, maxWaitMs] of [
    ["sequential", 100],
    ["concurrent", 100],
    ["end-to-end", 100],
    ["idle", 100],
    ["idle", 5000],
  ] as const)
    for (const client of CLIENTS) {
      const groupId = `${config.consumerGroup}-${client}-${scenario}-${maxWaitMs}`;
      groups.push(groupId);
      const plan: ClientPlan = {
        client,
        scenario,
        brokers: config.brokers,
        topics: [specs.requests.name, specs.status.name],
        groupId,
        maxWaitMs,
      };
      results.set(`${client} ${scenario}${scenario === "idle" ? ` ${maxWaitMs}` : ""}`, await runClient(plan));
    }
} finally {
  await admin.deleteGroups(groups).catch(() => {});
  await admin.disconnect();
  await deleteTestTopics(config);
}

const get = (client: ClientName, scenario: string) => results.get(`${client} ${scenario}`) ?? {};
console.log(
  `kafkajs vs @platformatic/kafka, Bun ${Bun.version}, broker 127.0.0.1:9092, each client in its own process\n`,
);
console.log(`${"".padEnd(52)}${"kafkajs".padStart(20)}${"@platformatic/kafka".padStart(22)}`);
const show = (label: string, scenario: string, cell: (r: ClientResult) => string) =>
  console.log(
    `${label.padEnd(52)}${cell(get("kafkajs", scenario)).padStart(20)}${cell(get("platformatic", scenario)).padStart(22)}`,
  );
show(
  "produce one at a time: p50 / p99 ms",
  "sequential",
  (r) => `${fmt(r.latency?.p50 ?? Number.NaN)} / ${fmt(r.latency?.p99 ?? Number.NaN)}`,
);
show("  CPU per message, ms", "sequential", (r) => fmt(r.cpuMsPerMessage ?? Number.NaN, 3));
show("produce, 64 callers: messages/s", "concurrent", (r) => fmt(r.perSecond ?? Number.NaN, 0));
show("  CPU per message, ms", "concurrent", (r) => fmt(r.cpuMsPerMessage ?? Number.NaN, 3));
show(
  "produce → consume, 100/s: p50 / p99 ms",
  "end-to-end",
  (r) => `${fmt(r.latency?.p50 ?? Number.NaN)} / ${fmt(r.latency?.p99 ?? Number.NaN)}`,
);
show("  messages received of 300", "end-to-end", (r) => String(r.latency?.count ?? 0));
show("idle group member + producer, 100 ms wait: % core", "idle 100", (r) => fmt((r.idleCore ?? Number.NaN) * 100, 1));
show("  the same with a 5 s fetch wait: % of a core", "idle 5000", (r) => fmt((r.idleCore ?? Number.NaN) * 100, 1));
process.exit(0);
