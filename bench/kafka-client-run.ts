/**
 * One client, one scenario, in a child process of its own (so its CPU is its own): run by
 * bench/kafka-clients.bench.ts with a JSON plan, prints a JSON result.
 */
import { planArgument, runInChild } from "./child.ts";
import { type BenchKafkaClient, kafkajsClient } from "./kafka-clients.ts";
import { platformaticClient } from "./platformatic-kafka.ts";
import { type Summary, summarize } from "./stats.ts";

export type ClientName = "kafkajs" | "platformatic";
export interface ClientPlan {
  client: ClientName;
  scenario: "sequential" | "concurrent" | "end-to-end" | "idle";
  /** Fetch long-poll of the consumer (the relay's is 100 ms). */
  maxWaitMs: number;
  brokers: string[];
  topics: string[];
  groupId: string;
}
export interface ClientResult {
  latency?: Summary;
  perSecond?: number;
  /** Process CPU per message (ms), or share of a core when idle. */
  cpuMsPerMessage?: number;
  idleCore?: number;
}

export const runClient = (plan: ClientPlan) => runInChild<ClientResult>(import.meta.path, plan);

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

async function run(plan: ClientPlan): Promise<ClientResult> {
  const client: BenchKafkaClient = (plan.client === "kafkajs" ? kafkajsClient : platformaticClient)(
    plan.brokers,
    plan.groupId,
  );
  const [topic = "", other = ""] = plan.topics;
  const value = JSON.stringify({ padding: "x".repeat(400) }); // about a request event's size
  try {
    for (let i = 0; i < 20; i++) await client.send(topic, `warm-${i}`, value); // connections, metadata, producer id
    if (plan.scenario === "sequential") {
      const latencies: number[] = [];
      const cpu0 = cpuSeconds();
      for (let i = 0; i < 300; i++) {
        const began = performance.now();
        await client.send(topic, `k-${i}`, value);
        latencies.push(performance.now() - began);
      }
      return { latency: summarize(latencies), cpuMsPerMessage: ((cpuSeconds() - cpu0) / 300) * 1000 };
    }
    if (plan.scenario === "concurrent") {
      let sent = 0;
      const cpu0 = cpuSeconds();
      const began = performance.now();
      const deadline = began + 3000;
      await Promise.all(
        Array.from({ length: 64 }, async (_, caller) => {
          while (performance.now() < deadline) await client.send(topic, `k-${caller}-${sent++}`, value);
        }),
      );
      const seconds = (performance.now() - began) / 1000;
      return { perSecond: sent / seconds, cpuMsPerMessage: ((cpuSeconds() - cpu0) / sent) * 1000 };
    }
    if (plan.scenario === "end-to-end") {
      const latencies: number[] = [];
      await client.consume([topic], plan.groupId, plan.maxWaitMs, (raw) => {
        const { sentAt } = JSON.parse(raw) as { sentAt?: number };
        if (sentAt !== undefined) latencies.push(performance.now() - sentAt);
      });
      await Bun.sleep(1000);
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 300; i++) {
        sends.push(client.send(topic, `k-${i}`, JSON.stringify({ sentAt: performance.now(), value })));
        await Bun.sleep(10);
      }
      await Promise.all(sends);
      await Bun.sleep(1000);
      return { latency: summarize(latencies) };
    }
    // idle: a consumer group member on two topics and a connected producer, nothing to do.
    await client.consume([topic, other], plan.groupId, plan.maxWaitMs, () => {});
    await Bun.sleep(2000);
    const cpu0 = cpuSeconds();
    await Bun.sleep(10_000);
    return { idleCore: (cpuSeconds() - cpu0) / 10 };
  } finally {
    await client.close();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await run(planArgument<ClientPlan>())));
  process.exit(0);
}
