/**
 * `npx bun bench/gateway-produce.bench.ts [seconds-per-level]`: accepted produces per second and
 * latency through @upstash/kafka → Kafka REST gateway → local Kafka (acks=all, idempotent), at
 * several concurrencies, with how many messages each sendBatch carried. Loopback only; it creates
 * fresh topics and deletes them at the end. The load runs in a child process (this file again,
 * with --load) so the client does not compete with the gateway for its event loop.
 */
import { Kafka as UpstashKafka } from "@upstash/kafka";
import { topicSpecs } from "../shared/topics.ts";
import { createBatchingProducer } from "../worker/gateway/batching-producer.ts";
import { createKafkaRestGateway } from "../worker/gateway/gateway-app.ts";
import { createFreshTopics, edgeMessage } from "../worker/gateway/gateway-fixtures.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../worker/testing/kafka-test-env.ts";

const CONCURRENCIES = [1, 16, 64, 256];

interface LoadResult {
  accepted: number;
  failed: number;
  seconds: number;
  p50: number;
  p99: number;
  /** Share of one core the load process used. */
  cpu: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

/** The child: `concurrency` edges producing back to back until the deadline. */
async function load(url: string, topic: string, concurrency: number, durationMs: number): Promise<LoadResult> {
  const client = new UpstashKafka({
    url,
    username: process.env.BENCH_USERNAME ?? "",
    password: process.env.BENCH_PASSWORD ?? "",
  }).producer();
  const latencies: number[] = [];
  let failed = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const message = edgeMessage();
        const sent = performance.now();
        try {
          await client.produce(topic, message.value, { key: message.key, headers: message.headers });
          latencies.push(performance.now() - sent);
        } catch {
          failed++;
        }
      }
    }),
  );
  const sorted = latencies.sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    accepted: sorted.length,
    failed,
    seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    cpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

async function benchmark(seconds: number) {
  const config = freshKafkaConfig({ KAFKA_TOPIC_PREFIX: `bench-${crypto.randomUUID().slice(0, 8)}-` });
  const kafka = testKafka(config);
  const topic = topicSpecs(config).requests.name;
  const credentials = { username: "pixel-edge", password: crypto.randomUUID() };
  // Placed as the gateway places them (worker/gateway/main.ts).
  const producer = createBatchingProducer({ kafka, logger: silentLogger, roundRobinTopics: [topic] });
  let server: ReturnType<typeof Bun.serve> | undefined;
  try {
    await createFreshTopics(kafka, config);
    if (!(await producer.start())) throw new Error("cannot connect to Kafka at 127.0.0.1:9092 (npm run stack:up)");
    const app = createKafkaRestGateway({ producer, ...credentials, allowedTopics: [topic], logger: silentLogger });
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch, idleTimeout: 120 });
    const url = server.url.href.replace(/\/$/, "");
    const run = async (concurrency: number, durationMs: number) => {
      const before = producer.counters;
      const cpuBefore = process.cpuUsage();
      const child = Bun.spawn(
        [process.execPath, import.meta.path, "--load", url, topic, `${concurrency}`, `${durationMs}`],
        {
          env: { ...process.env, BENCH_USERNAME: credentials.username, BENCH_PASSWORD: credentials.password },
          stdout: "pipe",
          stderr: "inherit",
        },
      );
      const result = JSON.parse(await new Response(child.stdout).text()) as LoadResult;
      if ((await child.exited) !== 0) throw new Error("the load process failed");
      const after = producer.counters;
      const cpu = process.cpuUsage(cpuBefore);
      const batches = after.batches - before.batches;
      return {
        ...result,
        batches,
        perBatch: batches ? (after.messages - before.messages) / batches : 0,
        // Share of one core the gateway process (HTTP, validation, kafkajs) used during the level.
        gatewayCpu: (cpu.user + cpu.system) / 1e6 / result.seconds,
      };
    };
    await run(16, 1000); // warm-up: JIT, connections, partition metadata

    console.log(`gateway produce: ${seconds}s per level, 6 partitions, acks=all, idempotent producer\n`);
    console.log("concurrency  accepted/s   p50 ms   p99 ms   batches  msgs/batch  failed  gateway CPU  client CPU");
    for (const concurrency of CONCURRENCIES) {
      const r = await run(concurrency, seconds * 1000);
      const columns = [
        [concurrency, 11],
        [Math.round(r.accepted / r.seconds), 11],
        [r.p50.toFixed(2), 8],
        [r.p99.toFixed(2), 8],
        [r.batches, 9],
        [r.perBatch.toFixed(1), 11],
        [r.failed, 7],
        [`${Math.round(r.gatewayCpu * 100)}%`, 12],
        [`${Math.round(r.cpu * 100)}%`, 11],
      ] as const;
      console.log(columns.map(([value, width]) => String(value).padStart(width)).join(" "));
    }
  } finally {
    await server?.stop(true);
    await producer.close();
    await deleteTestTopics(config);
  }
}

if (process.argv[2] === "--load") {
  const [url = "", topic = "", concurrency = "1", durationMs = "1000"] = process.argv.slice(3);
  console.log(JSON.stringify(await load(url, topic, Number(concurrency), Number(durationMs))));
} else {
  await benchmark(Math.min(30, Math.max(1, Number(process.argv[2] ?? 3))));
}
