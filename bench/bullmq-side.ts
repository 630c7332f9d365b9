/**
 * BullMQ's side of bench/bullmq-compare.bench.ts (the one module that imports bullmq): a fresh
 * queue on the local Redis, the same request events as job data, obliterated when closed.
 */
import { Queue, QueueEvents, Worker } from "bullmq";
import { requestEvent } from "../worker/gateway/gateway-fixtures.ts";
import { epochClock } from "./stats.ts";

export interface ProgressPacing {
  jobs: number;
  /** Progress updates per job, `stepMs` apart. */
  steps: number;
  stepMs: number;
  jobIntervalMs: number;
  concurrency: number;
}

export async function openBullmq(connection: { host: string; port: number }) {
  const queue = new Queue(`bench-${crypto.randomUUID().slice(0, 8)}`, { connection });
  await queue.waitUntilReady();

  /**
   * Worker `job.updateProgress()` → QueueEvents `progress`, in this process. Each update
   * carries a millisecond stamp (as our `at` does) and a microsecond one.
   */
  async function progress(pacing: ProgressPacing) {
    const now = epochClock();
    const precise: number[] = [];
    const msStamped: number[] = [];
    let completed = 0;
    const events = new QueueEvents(queue.name, { connection });
    events.on("progress", ({ data }) => {
      const { sentMs, sentPerf } = data as { sentMs: number; sentPerf: number };
      precise.push(performance.now() - sentPerf);
      msStamped.push(now() - sentMs);
    });
    events.on("completed", () => completed++);
    const worker = new Worker(
      queue.name,
      async (job) => {
        for (let step = 1; step <= pacing.steps; step++) {
          await Bun.sleep(pacing.stepMs);
          await job.updateProgress({ step, sentMs: Date.now(), sentPerf: performance.now() });
        }
      },
      { connection, concurrency: pacing.concurrency },
    );
    try {
      await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
      const started = performance.now();
      for (let i = 0; i < pacing.jobs; i++) {
        const wait = started + i * pacing.jobIntervalMs - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        await queue.add("generation", requestEvent());
      }
      const deadline = Date.now() + 30_000;
      while (completed < pacing.jobs && Date.now() < deadline) await Bun.sleep(20);
      return { precise, msStamped, completed };
    } finally {
      await worker.close();
      await events.close();
    }
  }

  return {
    add: () => queue.add("generation", requestEvent()),
    addBulk: (count: number) =>
      queue.addBulk(Array.from({ length: count }, () => ({ name: "generation", data: requestEvent() }))),
    /** Removes every job, so Redis stays small between rows. */
    clear: () => queue.obliterate({ force: true }),
    progress,
    async close() {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    },
  };
}
