/**
 * Drives the running pipeline: submits on the profile's schedule as many users (each under the
 * rate limit), follows every accepted generation to its end, samples lag and sockets each
 * second, drains, then checks Kafka for exactly one outcome record per accepted generation.
 */
import { mintApiToken } from "../../edge/auth.ts";
import type { TopicKey, TopicSpec } from "../../shared/topics.ts";
import type { Kafka } from "../../worker/kafka/kafka-client.ts";
import { readTopic } from "../../worker/kafka/topic-reader.ts";
import { type GroupRole, readKafkaOverview } from "../../worker/ops/kafka-overview.ts";
import { PROFILES, type ProfileName, schedule } from "./profiles.ts";
import { type GenerationRecord, watchGeneration } from "./watch-generation.ts";

export interface LoadOptions {
  edgeUrl: string;
  jwtSecret: string;
  rateLimitPerMinute: number;
  profile: ProfileName;
  seconds: number;
  rate: number;
  maxGenerations: number;
  drainSeconds: number;
  kafka: Kafka;
  topics: Record<TopicKey, TopicSpec>;
  groups: { groupId: string; role: GroupRole; topics: string[] }[];
  /** Worker metrics listeners, for the server's count of open sockets (optional). */
  metricsUrls: string[];
  log(line: string): void;
}

export interface Sample {
  /** Seconds from the start. */
  t: number;
  lag: Partial<Record<GroupRole, number>>;
  /** The most sockets the client held open at once during the second before. */
  clientSockets: number;
  serverSockets: number | null;
}

export interface LoadRun {
  startedAt: number;
  scheduleSeconds: number;
  endedAtSeconds: number;
  records: GenerationRecord[];
  samples: Sample[];
  /** Outcome records (complete + failed topics) per accepted generation id. */
  outcomeRecords: Map<string, number>;
  /** Ids GET answers 404 for at the end: accepted, then lost. */
  unknownAtEnd: Set<string>;
}

async function serverSockets(urls: string[]): Promise<number | null> {
  if (urls.length === 0) return null;
  let sum = 0;
  let any = false;
  for (const url of urls) {
    const text = await fetch(url, { signal: AbortSignal.timeout(1000) })
      .then((r) => (r.ok ? r.text() : ""))
      .catch(() => "");
    for (const m of text.matchAll(/^pixel_ws_sockets\{[^}]*\} (\d+)/gm)) {
      sum += Number(m[1]);
      any = true;
    }
  }
  return any ? sum : null;
}

export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const { log } = options;
  const times = schedule(options.profile, options.seconds, options.rate, options.maxGenerations);
  const peak = Math.max(
    ...Array.from({ length: options.seconds }, (_, s) =>
      PROFILES[options.profile].rate(s, options.seconds, options.rate),
    ),
  );
  // Each user stays at 80% of RATE_LIMIT_PER_MINUTE, so no submit is refused for its rate.
  const userCount = Math.max(1, Math.ceil((peak * 60) / (options.rateLimitPerMinute * 0.8)));
  const run = crypto.randomUUID().slice(0, 8);
  const tokens = await Promise.all(
    Array.from({ length: userCount }, (_, i) => mintApiToken(`load-${run}-${i}`, options.jwtSecret, 4 * 3600)),
  );
  log(`${times.length} generations over ${options.seconds} s (peak ${peak.toFixed(1)}/s) as ${userCount} user(s)`);

  const startedAt = Date.now();
  const now = () => Date.now() - startedAt;
  let clientSockets = 0;
  // Sockets often live for less than a sample's second: keep the peak between samples.
  let peakSockets = 0;
  const context = {
    edgeUrl: options.edgeUrl,
    now,
    onSocket: (delta: 1 | -1) => {
      clientSockets += delta;
      peakSockets = Math.max(peakSockets, clientSockets);
    },
  };
  const records: GenerationRecord[] = [];
  const watches: Promise<void>[] = [];
  let drainDeadline = Number.POSITIVE_INFINITY;
  const pastDeadline = () => now() > drainDeadline;

  const admin = options.kafka.admin();
  await admin.connect();
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const t = now() / 1000;
      const overview = await readKafkaOverview(admin, Object.values(options.topics), options.groups).catch(() => null);
      const lag: Sample["lag"] = {};
      for (const g of overview?.groups ?? []) lag[g.role] = g.lag;
      samples.push({ t, lag, clientSockets: peakSockets, serverSockets: await serverSockets(options.metricsUrls) });
      peakSockets = clientSockets;
      await Bun.sleep(Math.max(0, 1000 - (now() - t * 1000)));
    }
  })();

  for (let i = 0; i < times.length; i++) {
    const at = times[i] ?? 0;
    const wait = at - now();
    if (wait > 0) await Bun.sleep(wait);
    const record: GenerationRecord = { submittedAt: now(), submitStatus: 0, terminalMessages: 0 };
    records.push(record);
    const body = { prompt: `load test ${run} #${i}`, width: 256, height: 256, format: "webp" };
    watches.push(watchGeneration(context, tokens[i % userCount] ?? "", body, record, pastDeadline));
  }
  const scheduleSeconds = now() / 1000;
  drainDeadline = now() + options.drainSeconds * 1000;
  log(`submitted ${records.length}; draining for up to ${options.drainSeconds} s`);
  await Promise.race([Promise.all(watches), Bun.sleep(options.drainSeconds * 1000 + 2000)]);
  sampling = false;
  await sampler;
  const endedAtSeconds = now() / 1000;

  const accepted = records.filter((r) => r.id);
  const unknownAtEnd = new Set<string>();
  for (const r of accepted.filter((x) => x.endedAt === undefined)) {
    const response = await fetch(`${options.edgeUrl}/api/generations/${r.id}`, {
      headers: { authorization: `Bearer ${tokens[records.indexOf(r) % userCount]}` },
    }).catch(() => null);
    if (response?.status === 404 && r.id) unknownAtEnd.add(r.id);
  }
  const outcomeRecords = new Map<string, number>(accepted.map((r) => [r.id ?? "", 0]));
  for (const key of ["complete", "failed"] as const)
    for (const record of await readTopic(options.kafka, admin, options.topics[key].name, {
      since: startedAt - 1000,
      timeoutMs: 60_000,
    }))
      if (record.key && outcomeRecords.has(record.key))
        outcomeRecords.set(record.key, (outcomeRecords.get(record.key) ?? 0) + 1);
  await admin.disconnect();
  return { startedAt, scheduleSeconds, endedAtSeconds, records, samples, outcomeRecords, unknownAtEnd };
}
