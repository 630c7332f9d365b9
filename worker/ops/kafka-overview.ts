/**
 * What the console shows of Kafka: each pipeline topic's partitions (offsets, records retained,
 * leader, replicas in sync) and retention, and each pipeline group's members and lag per
 * partition, from the committed offsets.
 */
import type { TopicKey, TopicSpec } from "../../shared/topics.ts";
import type { Admin } from "../kafka/kafka-client.ts";
import { describeTopics } from "../kafka/topic-admin.ts";
import { isFailedLike } from "./failed-topics.ts";

export type GroupRole = "workers" | "relay" | "history";

export interface TopicView {
  key: TopicKey;
  name: string;
  /** requests, status, complete, failed, or dead-letter for any other failed-like topic. */
  kind: string;
  present: boolean;
  retentionMs: number | null;
  partitions: { partition: number; low: number; high: number; leader: number; replicas: number; inSync: number }[];
  /** Records retained, summed over partitions (Kafka's admin API gives no byte sizes to kafkajs). */
  records: number;
  endOffset: number;
}

export interface GroupView {
  groupId: string;
  role: GroupRole;
  state: string;
  members: { clientId: string; host: string }[];
  partitions: { topic: string; partition: number; committed: number | null; end: number; lag: number }[];
  lag: number;
}

export interface KafkaOverview {
  at: number;
  topics: TopicView[];
  groups: GroupView[];
}

export const kindOf = (key: TopicKey): string => (key !== "failed" && isFailedLike(key) ? "dead-letter" : key);

export async function readKafkaOverview(
  admin: Admin,
  specs: TopicSpec[],
  groups: { groupId: string; role: GroupRole; topics: string[] }[],
): Promise<KafkaOverview> {
  const states = await describeTopics(
    admin,
    specs.map((s) => s.name),
  );
  const present = specs.filter((s) => states.has(s.name));
  const metadata = present.length
    ? (await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) })).topics
    : [];
  const offsets = new Map(
    await Promise.all(present.map(async (s) => [s.name, await admin.fetchTopicOffsets(s.name)] as const)),
  );
  const topics: TopicView[] = specs.map((spec) => {
    const state = states.get(spec.name);
    const meta = metadata.find((t) => t.name === spec.name)?.partitions ?? [];
    const partitions = (offsets.get(spec.name) ?? [])
      .map((o) => {
        const p = meta.find((m) => m.partitionId === o.partition);
        return {
          partition: o.partition,
          low: Number(o.low),
          high: Number(o.high),
          leader: p?.leader ?? -1,
          replicas: p?.replicas.length ?? 0,
          inSync: p?.isr.length ?? 0,
        };
      })
      .sort((a, b) => a.partition - b.partition);
    return {
      key: spec.key,
      name: spec.name,
      kind: kindOf(spec.key),
      present: Boolean(state),
      retentionMs: state?.configs["retention.ms"] ? Number(state.configs["retention.ms"]) : null,
      partitions,
      records: partitions.reduce((n, p) => n + (p.high - p.low), 0),
      endOffset: partitions.reduce((n, p) => n + p.high, 0),
    };
  });
  const ends = (topic: string, partition: number) =>
    topics.find((t) => t.name === topic)?.partitions.find((p) => p.partition === partition);

  const described = (await admin.describeGroups(groups.map((g) => g.groupId))).groups;
  const groupViews = await Promise.all(
    groups.map(async (group): Promise<GroupView> => {
      const description = described.find((d) => d.groupId === group.groupId);
      const wanted = group.topics.filter((t) => states.has(t));
      const committed = wanted.length ? await admin.fetchOffsets({ groupId: group.groupId, topics: wanted }) : [];
      const partitions = committed.flatMap(({ topic, partitions: list }) =>
        list.map((p) => {
          const end = ends(topic, p.partition);
          const position = Number(p.offset) >= 0 ? Number(p.offset) : null;
          // Never committed: the group starts from the earliest retained record.
          const lag = end ? Math.max(0, end.high - (position ?? end.low)) : 0;
          return { topic, partition: p.partition, committed: position, end: end?.high ?? 0, lag };
        }),
      );
      return {
        groupId: group.groupId,
        role: group.role,
        state: description?.state ?? "Unknown",
        members: (description?.members ?? []).map((m) => ({ clientId: m.clientId, host: m.clientHost })),
        partitions: partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
        lag: partitions.reduce((n, p) => n + p.lag, 0),
      };
    }),
  );
  return { at: Date.now(), topics, groups: groupViews };
}
