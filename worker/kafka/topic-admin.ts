import type { TopicSpec } from "../../shared/topics.ts";
import { type Admin, ConfigResourceTypes } from "./kafka-client.ts";

export type TopicOutcome =
  | { topic: string; action: "created" }
  | { topic: string; action: "unchanged" }
  | { topic: string; action: "reconciled"; changes: { config: string; from: string; to: string }[] }
  | { topic: string; action: "partitions-grown"; from: number; to: number }
  | { topic: string; action: "partitions-exceed-spec"; actual: number; expected: number }
  | { topic: string; action: "replication-mismatch"; actual: number; expected: number };

export interface TopicState {
  partitions: number;
  replicationFactor: number;
  /** Only configs set on the topic itself (not broker defaults). */
  configs: Record<string, string>;
}

export async function describeTopics(admin: Admin, names: string[]): Promise<Map<string, TopicState>> {
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  const states = new Map<string, TopicState>();
  if (present.length === 0) return states;
  const [{ topics }, described] = await Promise.all([
    admin.fetchTopicMetadata({ topics: present }),
    admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    }),
  ]);
  for (const topic of topics) {
    const resource = described.resources.find((r) => r.resourceName === topic.name);
    const configs: Record<string, string> = {};
    for (const entry of resource?.configEntries ?? []) configs[entry.configName] = entry.configValue;
    states.set(topic.name, {
      partitions: topic.partitions.length,
      replicationFactor: topic.partitions[0]?.replicas.length ?? 0,
      configs,
    });
  }
  return states;
}

/**
 * Waits until every partition of `topics` has a leader that answers ListOffsets. kafkajs's
 * `waitForLeaders` trusts metadata, which names a leader a moment before that broker serves the
 * partition, so a produce or listOffsets right after creation can still meet "not the leader".
 */
export async function waitUntilServed(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const topic of topics) {
    for (;;) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        if (offsets.length > 0 && offsets.every((o) => Number(o.high) >= 0)) break;
      } catch (error) {
        if (Date.now() >= until)
          throw new Error(`topic ${topic}: partitions still without a serving leader after ${timeoutMs} ms`, {
            cause: error,
          });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Brings each topic to its spec: creates missing ones, reconciles drifted configs and grows
 * partitions. Kafka cannot shrink partitions or (simply) change replication, so those are
 * reported and left for an operator. Running it again changes nothing.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<TopicOutcome[]> {
  const states = await describeTopics(
    admin,
    specs.map((s) => s.name),
  );
  const missing = specs.filter((s) => !states.has(s.name));
  if (missing.length > 0) {
    // Not kafkajs's waitForLeaders: it gives up after the client's few retries, which a busy
    // broker can outlast; waitUntilServed below waits on its own, longer, deadline.
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const outcomes: TopicOutcome[] = [];
  const grown: string[] = [];
  for (const spec of specs) {
    const state = states.get(spec.name);
    if (!state) {
      outcomes.push({ topic: spec.name, action: "created" });
      continue;
    }
    const topicOutcomes: TopicOutcome[] = [];
    const changes = Object.entries(spec.configs)
      .filter(([name, value]) => state.configs[name] !== value)
      .map(([name, value]) => ({ config: name, from: state.configs[name] ?? "(default)", to: value }));
    if (changes.length > 0) {
      // AlterConfigs (non-incremental) replaces the topic's whole config set: send all of the spec.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: spec.name,
            configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
          },
        ],
      });
      topicOutcomes.push({ topic: spec.name, action: "reconciled", changes });
    }
    if (state.partitions < spec.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic: spec.name, count: spec.partitions }] });
      grown.push(spec.name);
      topicOutcomes.push({ topic: spec.name, action: "partitions-grown", from: state.partitions, to: spec.partitions });
    } else if (state.partitions > spec.partitions) {
      topicOutcomes.push({
        topic: spec.name,
        action: "partitions-exceed-spec",
        actual: state.partitions,
        expected: spec.partitions,
      });
    }
    if (state.replicationFactor !== spec.replicationFactor) {
      topicOutcomes.push({
        topic: spec.name,
        action: "replication-mismatch",
        actual: state.replicationFactor,
        expected: spec.replicationFactor,
      });
    }
    outcomes.push(...(topicOutcomes.length > 0 ? topicOutcomes : [{ topic: spec.name, action: "unchanged" as const }]));
  }
  await waitUntilServed(admin, [...missing.map((s) => s.name), ...grown]);
  return outcomes;
}

export function describeOutcome(o: TopicOutcome): string {
  switch (o.action) {
    case "created":
      return `${o.topic}: created`;
    case "unchanged":
      return `${o.topic}: already matches the spec, nothing changed`;
    case "reconciled":
      return `${o.topic}: config drift reconciled (${o.changes.map((c) => `${c.config} ${c.from} → ${c.to}`).join(", ")})`;
    case "partitions-grown":
      return `${o.topic}: partitions grown ${o.from} → ${o.to}`;
    case "partitions-exceed-spec":
      return `${o.topic}: has ${o.actual} partitions but the spec says ${o.expected}; Kafka cannot shrink a topic, left as is`;
    case "replication-mismatch":
      return `${o.topic}: replication factor ${o.actual} differs from the spec's ${o.expected}; needs a partition reassignment, left as is`;
  }
}

/** Outcomes an operator must act on (the command exits non-zero on these). */
export const isProblem = (o: TopicOutcome): boolean =>
  o.action === "partitions-exceed-spec" || o.action === "replication-mismatch";
