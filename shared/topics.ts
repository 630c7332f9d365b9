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
  requests: { name: "image.generation.requests", partitions: 6, retentionMs: 7 * DAY_MS, event: RequestEvent },
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
export const TOPIC_KEYS = Object.keys(TOPIC_DEFINITIONS) as TopicKey[];

export interface TopicSpec {
  key: TopicKey;
  name: string;
  partitions: number;
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

export function formatDuration(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % 3600000 === 0) return `${ms / 3600000}h`;
  return `${ms}ms`;
}
