import type { TopicSpec } from "../../shared/topics.ts";
import type { DeadLetterGroup } from "./dead-letter-tail.ts";
import type { Admin } from "./kafka-client.ts";
import { classifyKafkaError } from "./kafka-errors.ts";
import { describeTopics } from "./topic-admin.ts";

export interface TopicHealth {
  name: string;
  present: boolean;
  partitions: number;
  expectedPartitions: number;
  retentionMs: number | null;
  expectedRetentionMs: number;
  replicationFactor: number;
  /** Partitions whose in-sync replica set is smaller than their replica set. */
  underReplicatedPartitions: number;
}

export interface GroupHealth {
  groupId: string;
  state: string;
  members: number;
  lag: number;
  lagByTopic: Record<string, number>;
}

export interface DeadLetterHealth {
  topic: string;
  /** Dead letters still retained on the topic. */
  parked: number;
  /** The newest ones, grouped (empty when none were read). */
  groups: DeadLetterGroup[];
}

export interface HealthReport {
  ok: boolean;
  problems: string[];
  brokers: { nodeId: number; host: string; port: number }[];
  controller: number | null;
  topics: TopicHealth[];
  groups: GroupHealth[];
  /** Parked messages are not a failure of the cluster (their consumers moved on), but they need a look. */
  deadLetters: DeadLetterHealth | null;
}

async function topicHealth(admin: Admin, specs: TopicSpec[]): Promise<TopicHealth[]> {
  const states = await describeTopics(
    admin,
    specs.map((s) => s.name),
  );
  const present = specs.filter((s) => states.has(s.name)).map((s) => s.name);
  const metadata = present.length ? (await admin.fetchTopicMetadata({ topics: present })).topics : [];
  return specs.map((spec) => {
    const state = states.get(spec.name);
    const partitions = metadata.find((t) => t.name === spec.name)?.partitions ?? [];
    return {
      name: spec.name,
      present: Boolean(state),
      partitions: state?.partitions ?? 0,
      expectedPartitions: spec.partitions,
      retentionMs: state?.configs["retention.ms"] ? Number(state.configs["retention.ms"]) : null,
      expectedRetentionMs: Number(spec.configs["retention.ms"]),
      replicationFactor: state?.replicationFactor ?? 0,
      underReplicatedPartitions: partitions.filter((p) => p.isr.length < p.replicas.length).length,
    };
  });
}

async function groupHealth(admin: Admin, topics: string[]): Promise<GroupHealth[]> {
  const { groups } = await admin.listGroups();
  const ends = new Map<string, Map<number, { high: number; low: number }>>();
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends.set(topic, new Map(offsets.map((o) => [o.partition, { high: Number(o.high), low: Number(o.low) }])));
  }
  const described = groups.length ? (await admin.describeGroups(groups.map((g) => g.groupId))).groups : [];
  const out: GroupHealth[] = [];
  for (const group of groups) {
    const committed = await admin.fetchOffsets({ groupId: group.groupId, topics });
    const lagByTopic: Record<string, number> = {};
    for (const { topic, partitions } of committed) {
      // A group that never committed on a topic does not consume it.
      if (!partitions.some((p) => Number(p.offset) >= 0)) continue;
      lagByTopic[topic] = partitions.reduce((sum, p) => {
        const end = ends.get(topic)?.get(p.partition);
        if (!end) return sum;
        const position = Number(p.offset) >= 0 ? Number(p.offset) : end.low;
        return sum + Math.max(0, end.high - position);
      }, 0);
    }
    if (Object.keys(lagByTopic).length === 0) continue;
    const description = described.find((d) => d.groupId === group.groupId);
    out.push({
      groupId: group.groupId,
      state: description?.state ?? "Unknown",
      members: description?.members.length ?? 0,
      lag: Object.values(lagByTopic).reduce((a, b) => a + b, 0),
      lagByTopic,
    });
  }
  return out;
}

function problemsOf(topics: TopicHealth[]): string[] {
  const problems: string[] = [];
  for (const t of topics) {
    if (!t.present) {
      problems.push(`topic missing: ${t.name} (run npm run kafka:create-topics)`);
      continue;
    }
    if (t.partitions !== t.expectedPartitions)
      problems.push(`wrong partitions: ${t.name} has ${t.partitions}, expected ${t.expectedPartitions}`);
    if (t.retentionMs !== t.expectedRetentionMs)
      problems.push(
        `wrong retention: ${t.name} has retention.ms=${t.retentionMs ?? "broker default"}, expected ${t.expectedRetentionMs}`,
      );
    if (t.underReplicatedPartitions > 0)
      problems.push(
        `under-replicated: ${t.name} has ${t.underReplicatedPartitions} partitions with replicas out of sync`,
      );
  }
  return problems;
}

/**
 * Checks brokers, the topics, consumer groups and parked dead letters. Never throws and never runs past
 * `deadlineMs`: an unreachable or refusing cluster becomes a report with the precise reason.
 */
async function deadLetterHealth(
  admin: Admin,
  spec: TopicSpec | undefined,
  tail: ((topic: string) => Promise<DeadLetterGroup[]>) | undefined,
): Promise<DeadLetterHealth | null> {
  if (!spec) return null;
  const offsets = await admin.fetchTopicOffsets(spec.name);
  const parked = offsets.reduce((sum, o) => sum + Math.max(0, Number(o.high) - Number(o.low)), 0);
  const groups = parked > 0 && tail ? await tail(spec.name).catch(() => []) : [];
  return { topic: spec.name, parked, groups };
}

export async function checkClusterHealth(
  admin: Admin,
  specs: TopicSpec[],
  options: {
    deadlineMs: number;
    brokers: string[];
    /** Reads the newest dead letters for the report; without it only their number is shown. */
    deadLetterTail?: (topic: string) => Promise<DeadLetterGroup[]>;
  },
): Promise<HealthReport> {
  const empty: HealthReport = {
    ok: false,
    problems: [],
    brokers: [],
    controller: null,
    topics: [],
    groups: [],
    deadLetters: null,
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ...empty,
          problems: [
            `broker unreachable: no answer from ${options.brokers.join(", ")} within ${options.deadlineMs} ms`,
          ],
        }),
      options.deadlineMs,
    );
  });
  const check = (async (): Promise<HealthReport> => {
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      const topics = await topicHealth(admin, specs);
      const groups = await groupHealth(
        admin,
        topics.filter((t) => t.present).map((t) => t.name),
      );
      const problems = problemsOf(topics);
      const deadLetterSpec = specs.find(
        (s) => s.key === "deadLetter" && topics.some((t) => t.name === s.name && t.present),
      );
      return {
        ok: problems.length === 0,
        problems,
        brokers: cluster.brokers,
        controller: cluster.controller,
        topics,
        groups,
        deadLetters: await deadLetterHealth(admin, deadLetterSpec, options.deadLetterTail),
      };
    } catch (error) {
      const { kind, message } = classifyKafkaError(error);
      const reason =
        kind === "unreachable"
          ? `broker unreachable: ${options.brokers.join(", ")} (${message})`
          : kind === "auth"
            ? message
            : `kafka error: ${message}`;
      return { ...empty, problems: [reason] };
    }
  })();
  try {
    return await Promise.race([check, deadline]);
  } finally {
    clearTimeout(timer);
    await Promise.race([admin.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
  }
}
