import type { SectionConfig } from "./config/parse-config.ts";
import { DeadLetterEvent } from "./events/dead-letter-event.ts";
import { CompleteEvent, FailedEvent, RequestEvent, StatusEvent } from "./events/events.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The four topics of docs/api.md, and the dead-letter topic where consumers park messages that fail
 * the same way every time: name, partitions, retention and the event each one carries. Dead
 * letters are kept longer than their sources, so an operator has time to look and re-drive.
 */
export const TOPIC_DEFINITIONS = {
  requests: {
    name: "image.generation.requests",
    partitions: 6,
    retentionMs: 7 * DAY_MS,
    event: RequestEvent,
    partitioning: "round-robin",
  },
  status: { name: "image.generation.status", partitions: 3, retentionMs: 1 * DAY_MS, event: StatusEvent },
  complete: { name: "image.generation.complete", partitions: 3, retentionMs: 7 * DAY_MS, event: CompleteEvent },
  failed: { name: "image.generation.failed", partitions: 3, retentionMs: 7 * DAY_MS, event: FailedEvent },
  deadLetter: {
    name: "image.generation.dead-letter",
    partitions: 3,
    retentionMs: 14 * DAY_MS,
    event: DeadLetterEvent,
  },
} as const;

export type TopicKey = keyof typeof TOPIC_DEFINITIONS;

/**
 * Where a record that names no partition goes. `by-key`: murmur2 of its key, as every Kafka
 * client does, so one generation's events stay in order in one partition. `round-robin`: the
 * producer's next partition in turn, whatever the key. Request records use it: a generation has
 * one request record per attempt, so none needs its key's partition, and a worker instance works
 * only the partitions it owns. Hashed, one of two instances got 27 of a burst of 48 on average
 * (up to 37; `npx bun bench/partition-spread.ts`) and drew on after the other went idle.
 */
export type Partitioning = "by-key" | "round-robin";
export const TOPIC_KEYS = Object.keys(TOPIC_DEFINITIONS) as TopicKey[];

export interface TopicSpec {
  key: TopicKey;
  name: string;
  partitions: number;
  partitioning: Partitioning;
  replicationFactor: number;
  /** Topic-level configs as Kafka expects them: string values. */
  configs: Record<string, string>;
}

export function topicSpecs(
  kafka: Pick<SectionConfig<"kafka">, "topicPrefix" | "replicationFactor" | "minInsyncReplicas">,
): Record<TopicKey, TopicSpec> {
  const specs = {} as Record<TopicKey, TopicSpec>;
  for (const key of TOPIC_KEYS) {
    const def = TOPIC_DEFINITIONS[key];
    specs[key] = {
      key,
      name: kafka.topicPrefix + def.name,
      partitions: def.partitions,
      partitioning: "partitioning" in def ? def.partitioning : "by-key",
      replicationFactor: kafka.replicationFactor,
      configs: {
        "retention.ms": String(def.retentionMs),
        "min.insync.replicas": String(kafka.minInsyncReplicas),
        "cleanup.policy": "delete",
      },
    };
  }
  return specs;
}

/** Names of the topics whose records are placed round robin (for the producers that write them). */
export const roundRobinTopics = (specs: Record<TopicKey, TopicSpec>): string[] =>
  Object.values(specs)
    .filter((spec) => spec.partitioning === "round-robin")
    .map((spec) => spec.name);

export function formatDuration(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % 3600000 === 0) return `${ms / 3600000}h`;
  return `${ms}ms`;
}
