/**
 * `npx bun bench/bullmq-compare.bench.ts [seconds-per-row] [rounds]`: BullMQ and our pipeline
 * side by side in one run, on this machine's Redis (127.0.0.1:6379) and Kafka, measured the
 * same way. Rows alternate between the systems and repeat for `rounds` rounds, so background
 * load on this shared 2-core machine falls on both alike; each row prints the median round.
 *
 * Enqueue: `CALLERS` concurrent callers for a fixed time, one request event per job. BullMQ
 * `queue.add` and `addBulk`; ours through the batching producer (the layer equivalent to
 * queue.add: acks=all, idempotent) one at a time and in the same batches; and ours through the
 * edge's HTTP API, the real user path (client in a child process, no workers running).
 * Progress: jobs `jobIntervalMs` apart, each reporting progress `steps` times `stepMs` apart.
 * BullMQ: Worker `job.updateProgress()` → QueueEvents `progress`, one process. Ours: worker
 * status event → Kafka → relay → Redis → live server → WebSocket client (child process).
 * Fresh queue, topics and keys; all deleted at the end.
 */
import { topicSpecs } from "../shared/topics.ts";
import { createBatchingProducer } from "../worker/gateway/batching-producer.ts";
import { createFreshTopics, edgeMessage } from "../worker/gateway/gateway-fixtures.ts";
import { createProceduralProvider } from "../worker/generation/procedural-provider.ts";
import type { GenerationProvider } from "../worker/generation/provider.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../worker/testing/kafka-test-env.ts";
import { startPipeline } from "../worker/testing/pipeline-harness.ts";
import { openBullmq } from "./bullmq-side.ts";
import { runEdgeLoad } from "./edge-load.ts";
import { fmt, median, summarize } from "./stats.ts";
import { runProgressClient } from "./ws-progress-client.ts";

const SECONDS = Math.min(30, Math.max(1, Number(process.argv[2] ?? 3)));
const ROUNDS = Math.min(10, Math.max(1, Number(process.argv[3] ?? 3)));
const CALLERS = 64;
const BULK = 50;
const PACING = { jobs: 40, steps: 12, stepMs: 5, jobIntervalMs: 100, concurrency: 4 };
const edgeEnv = { RATE_LIMIT_PER_MINUTE: "1000000" };

/** `callers` loops calling `op` (which adds `perCall` jobs) until the time is up: jobs/s. */
async function throughput(seconds: number, perCall: number, op: () => Promise<unknown>) {
  let jobs = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < deadline) {
        await op();
        jobs += perCall;
      }
    }),
  );
  return jobs / ((performance.now() - started) / 1000);
}

/** A model that reports progress at the pace BullMQ's worker does, then draws the real (small) image. */
function pacedProvider(): GenerationProvider {
  const real = createProceduralProvider();
  return {
    name: "paced",
    async generate(input) {
      for (let step = 1; step <= PACING.steps; step++) {
        await Bun.sleep(PACING.stepMs);
        input.signal.throwIfAborted();
        input.onStage("rendering", 10 + Math.round((50 * step) / PACING.steps));
      }
      return real.generate({ ...input, onStage: () => {} });
    },
  };
}

const bull = await openBullmq({ host: "127.0.0.1", port: 6379 });
const kafkaConfig = freshKafkaConfig({ KAFKA_TOPIC_PREFIX: `bench-${crypto.randomUUID().slice(0, 8)}-` });
const kafka = testKafka(kafkaConfig);
const topic = topicSpecs(kafkaConfig).requests.name;
const producer = createBatchingProducer({ kafka, logger: silentLogger });
// Two pipelines: the edge row's has no workers (they would take the cores the edge is measured
// on); the progress one has a worker whose provider reports progress at BullMQ's pace.
const edgePipeline = await startPipeline({ workers: 0, edgeEnv });
const livePipeline = await startPipeline({
  workers: 1,
  maxConcurrent: PACING.concurrency,
  provider: pacedProvider(),
  // Every progress update is an event here, as with job.updateProgress (production default 250 ms).
  progressIntervalMs: 0,
  edgeEnv,
});
try {
  await createFreshTopics(kafka, kafkaConfig);
  if (!(await producer.start())) throw new Error("cannot connect to Kafka at 127.0.0.1:9092 (npm run stack:up)");
  const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => edgePipeline.token(`bench-user-${i}`)));
  const edgePlan = {
    edgeUrl: edgePipeline.edgeUrl,
    tokens,
    body: { prompt: "bench enqueue", width: 256, height: 256 },
  };
  const progressPlan = {
    edgeUrl: livePipeline.edgeUrl,
    token: await livePipeline.token("bench-progress"),
    body: { prompt: "bench progress", width: 256, height: 256 },
    count: PACING.jobs,
    intervalMs: PACING.jobIntervalMs,
  };
  const rows = {
    bullAdd: [] as number[],
    oursSend: [] as number[],
    bullBulk: [] as number[],
    oursBulk: [] as number[],
    edge: [] as number[],
  };
  const progress = { bullMs: [] as number[], bullPrecise: [] as number[], ours: [] as number[], bullJobs: 0 };
  let oursLeftOut = 0;
  let oursCompleted = 0;

  // Warm-up of every path: JIT, connections, partition metadata, consumer groups.
  await throughput(1, 1, bull.add);
  await throughput(1, 1, () => producer.send(topic, [edgeMessage()]));
  await runEdgeLoad({ ...edgePlan, mode: "closed", concurrency: 16, durationMs: 1000 });
  await runProgressClient({ ...progressPlan, count: 5 });
  await bull.clear();

  console.log(`BullMQ vs ours: ${CALLERS} callers, ${SECONDS} s per enqueue row, ${ROUNDS} rounds`);
  for (let round = 1; round <= ROUNDS; round++) {
    rows.bullAdd.push(await throughput(SECONDS, 1, bull.add));
    await bull.clear(); // keeps Redis small (and its RDB snapshots short) for the next row
    rows.oursSend.push(await throughput(SECONDS, 1, () => producer.send(topic, [edgeMessage()])));
    rows.bullBulk.push(await throughput(SECONDS, BULK, () => bull.addBulk(BULK)));
    await bull.clear();
    rows.oursBulk.push(
      await throughput(SECONDS, BULK, () =>
        producer.send(
          topic,
          Array.from({ length: BULK }, () => edgeMessage()),
        ),
      ),
    );
    const edge = await runEdgeLoad({ ...edgePlan, mode: "closed", concurrency: CALLERS, durationMs: SECONDS * 1000 });
    rows.edge.push(edge.accepted / edge.seconds);

    const theirs = await bull.progress(PACING);
    progress.bullMs.push(...theirs.msStamped);
    progress.bullPrecise.push(...theirs.precise);
    progress.bullJobs += theirs.completed;
    const ours = await runProgressClient(progressPlan);
    progress.ours.push(...ours.latencies);
    oursLeftOut += ours.beforeSnapshot;
    oursCompleted += ours.completed;
    console.log(`  round ${round}/${ROUNDS} done`);
  }

  const oursLatency = summarize(progress.ours);
  const bullMs = summarize(progress.bullMs);
  const bullPrecise = summarize(progress.bullPrecise);
  const thousands = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const rate = (values: number[]) =>
    `${thousands(median(values))}/s [${thousands(Math.min(...values))}–${thousands(Math.max(...values))}]`;
  const higher = (b: number[], o: number[]) =>
    median(o) >= median(b) ? `ours, ${fmt(median(o) / median(b))}×` : `BullMQ, ${fmt(median(b) / median(o))}×`;
  const lower = (b: number, o: number) => (o <= b ? `ours, by ${fmt(b - o)} ms` : `BullMQ, by ${fmt(o - b)} ms`);
  const table: [string, string, string, string][] = [
    [
      "enqueue, 1 job per call (queue.add / send)",
      rate(rows.bullAdd),
      rate(rows.oursSend),
      higher(rows.bullAdd, rows.oursSend),
    ],
    [
      `enqueue, ${BULK} per call (addBulk / send)`,
      rate(rows.bullBulk),
      rate(rows.oursBulk),
      higher(rows.bullBulk, rows.oursBulk),
    ],
    ["enqueue: queue.add vs ours via edge HTTP", rate(rows.bullAdd), rate(rows.edge), higher(rows.bullAdd, rows.edge)],
    [
      "progress delivery p50 (ms stamps)",
      `${fmt(bullMs.p50)} ms`,
      `${fmt(oursLatency.p50)} ms`,
      lower(bullMs.p50, oursLatency.p50),
    ],
    [
      "progress delivery p99 (ms stamps)",
      `${fmt(bullMs.p99)} ms`,
      `${fmt(oursLatency.p99)} ms`,
      lower(bullMs.p99, oursLatency.p99),
    ],
    ["  BullMQ with µs stamps: p50 / p99", `${fmt(bullPrecise.p50)} / ${fmt(bullPrecise.p99)}`, "", ""],
  ];
  console.log(`\n${"".padEnd(44)}${"BullMQ 5.81.5".padStart(24)}${"ours".padStart(24)}   winner`);
  for (const [label, b, o, winner] of table)
    console.log(`${label.padEnd(44)}${b.padStart(24)}${o.padStart(24)}   ${winner}`);
  console.log(
    `\nenqueue: median of ${ROUNDS} rounds [min–max]. progress samples: BullMQ ${bullMs.count}` +
      ` (${progress.bullJobs}/${PACING.jobs * ROUNDS} jobs), ours ${oursLatency.count} (${oursCompleted}/${PACING.jobs * ROUNDS}` +
      ` generations; ${oursLeftOut} events stamped before the socket's snapshot left out).`,
  );
  console.log("claim to beat: BullMQ adds 26.8k jobs/s and delivers a progress event in 3.1 ms p99");
} finally {
  await livePipeline.stop();
  await edgePipeline.stop();
  await producer.close();
  await deleteTestTopics(kafkaConfig);
  await bull.close();
}
