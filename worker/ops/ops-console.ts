/**
 * The operations console's state: a Kafka snapshot, read when the console or a metrics scrape
 * wants it and no more often than every few seconds (it also feeds the Kafka series of this
 * process's metrics, for alerting), plus on-demand reads of workers, history, failed records and
 * stories, and replay.
 */
import type { Logger } from "../../shared/logger.ts";
import type { TopicKey, TopicSpec } from "../../shared/topics.ts";
import type { BatchingProducer } from "../gateway/batching-producer.ts";
import type { Admin, Kafka } from "../kafka/kafka-client.ts";
import type { Redis } from "../redis/redis-client.ts";
import { type ReplayResult, replayFailed } from "../relay/replay-failed.ts";
import { METRICS } from "../runtime/metric-catalogue.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { REPLAYABLE_TOPICS } from "./failed-topics.ts";
import { type GroupRole, type KafkaOverview, readKafkaOverview } from "./kafka-overview.ts";
import { readMinutes } from "./minute-stats.ts";
import { generationStory, listFailed } from "./ops-records.ts";
import { readWorkers } from "./worker-heartbeat.ts";

/** How long a console page waits for a fresh Kafka snapshot before it shows the last one. */
const OVERVIEW_WAIT_MS = 1000;

export interface OpsConsoleDeps {
  kafka: Kafka;
  producer: BatchingProducer;
  redis: Redis;
  prefix: string;
  topics: Record<TopicKey, TopicSpec>;
  groups: { workers: string; relay: string; history: string };
  logger: Logger;
  metrics?: Metrics;
  refreshMs?: number;
}

export async function createOpsConsole(deps: OpsConsoleDeps) {
  const { kafka, redis, prefix, topics, logger } = deps;
  const admin: Admin = kafka.admin();
  await admin.connect();
  const groups: { groupId: string; role: GroupRole; topics: string[] }[] = [
    { groupId: deps.groups.workers, role: "workers", topics: [topics.requests.name] },
    { groupId: deps.groups.relay, role: "relay", topics: [topics.requests.name, topics.status.name] },
    { groupId: deps.groups.history, role: "history", topics: [topics.complete.name, topics.failed.name] },
  ];
  let overview: KafkaOverview | null = null;
  let lastError: string | null = null;
  let aliveWorkers = 0;

  const refresh = async (): Promise<KafkaOverview | null> => {
    try {
      overview = await readKafkaOverview(admin, Object.values(topics), groups);
      aliveWorkers = (await readWorkers(redis, prefix)).filter((w) => w.alive).length;
      lastError = null;
    } catch (error) {
      lastError = (error as Error).message;
      logger.warn("could not read the Kafka overview", { error });
    }
    return overview;
  };
  await refresh();
  // Read when someone looks — a console page, its API, a metrics scrape — and then at most every
  // refreshMs: a stack nobody watches reads nothing from Kafka for its console.
  const refreshMs = deps.refreshMs ?? 3000;
  let readAt = Date.now();
  let reading: Promise<unknown> | null = null;
  const fresh = async (): Promise<void> => {
    if (Date.now() - readAt < refreshMs) return;
    reading ??= refresh().finally(() => {
      readAt = Date.now();
      reading = null;
    });
    await reading;
  };

  if (deps.metrics) {
    deps.metrics.beforeScrape(fresh);
    deps.metrics.gauge(METRICS.groupLag, () =>
      (overview?.groups ?? []).flatMap((g) =>
        g.partitions.map((p) => ({
          labels: { group: g.groupId, role: g.role, topic: p.topic, partition: String(p.partition) },
          value: p.lag,
        })),
      ),
    );
    deps.metrics.gauge(METRICS.groupMembers, () =>
      (overview?.groups ?? []).map((g) => ({ labels: { group: g.groupId, role: g.role }, value: g.members.length })),
    );
    deps.metrics.gauge(METRICS.topicEndOffset, () =>
      (overview?.topics ?? [])
        .filter((t) => t.present)
        .map((t) => ({ labels: { topic: t.name, kind: t.kind }, value: t.endOffset })),
    );
    deps.metrics.gauge(METRICS.workersAlive, () => [{ value: aliveWorkers }]);
  }

  const reads = { kafka, admin, redis, prefix, topics };
  return {
    /**
     * The Kafka snapshot, read again first when older than refreshMs. A page waits for that read
     * at most OVERVIEW_WAIT_MS: with the broker away kafkajs retries for many seconds, and the
     * console is wanted most then; it shows the last snapshot and error, and the read goes on.
     */
    async overview() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, OVERVIEW_WAIT_MS);
      });
      await Promise.race([fresh(), waited]).finally(() => clearTimeout(timer));
      return { overview, error: lastError };
    },
    workers: () => readWorkers(redis, prefix),
    minutes: (count = 60) => readMinutes(redis, prefix, count),
    failed: () => listFailed(reads),
    story: (id: string) => generationStory(reads, id),
    /** Replays one generation (by id) or every failed one, from every topic of failed events. */
    async replay(ids?: string[]): Promise<ReplayResult> {
      const total: ReplayResult = { replayed: [], skipped: [] };
      for (const key of REPLAYABLE_TOPICS) {
        const result = await replayFailed({
          kafka,
          producer: deps.producer,
          redis,
          prefix,
          topics: { failed: topics[key].name, requests: topics.requests.name },
          ids,
        });
        total.replayed.push(...result.replayed);
        total.skipped.push(...result.skipped.filter((s) => !total.replayed.includes(s.id)));
      }
      return total;
    },
    async stop(): Promise<void> {
      await reading;
      await admin.disconnect().catch(() => {});
    },
  };
}
export type OpsConsole = Awaited<ReturnType<typeof createOpsConsole>>;
