/**
 * The console's reads of generations from Kafka and Redis: the failed-like records (browse,
 * filter, inspect) and one generation's whole story across every topic.
 */
import { redisKeys } from "../../shared/redis-keys.ts";
import type { StoredSnapshot } from "../../shared/snapshot.ts";
import type { TopicKey, TopicSpec } from "../../shared/topics.ts";
import { UUID_V7 } from "../../shared/uuid7.ts";
import type { EventMessage } from "../../shared/ws-messages.ts";
import type { Admin, Kafka } from "../kafka/kafka-client.ts";
import { type RawRecord, readTopic } from "../kafka/topic-reader.ts";
import type { Redis } from "../redis/redis-client.ts";
import { FAILED_LIKE_TOPICS } from "./failed-topics.ts";
import { kindOf } from "./kafka-overview.ts";

/**
 * A record of a failed-like topic, read generically: a failed event (id, user, error), or a dead
 * letter (its consumer and error, and the original message's key and value, base64).
 */
export interface FailedEntry {
  topicKey: TopicKey;
  kind: string;
  record: RawRecord;
  id: string;
  userId: string;
  code: string;
  message: string;
  attempts: number | null;
  /** A dead letter's original message, decoded (as text), for inspection. */
  original: string | null;
  /** The generation's status in Redis now: `failed` means it can be replayed. */
  state: string | null;
}

export interface FailedFilter {
  code?: string;
  /** Matches id, user or message, case-insensitively. */
  q?: string;
  /** Only generations still failed (replayable). */
  replayable?: boolean;
}

const parse = (value: string): Record<string, unknown> => {
  try {
    const v = JSON.parse(value);
    return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const str = (v: unknown) => (typeof v === "string" ? v : "");
const unbase64 = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : null);

export async function readStatuses(redis: Redis, prefix: string, ids: string[]): Promise<(StoredSnapshot | null)[]> {
  if (ids.length === 0) return [];
  const keys = redisKeys(prefix);
  const raw = (await redis.send(
    "MGET",
    ids.map((id) => keys.snapshot(id)),
  )) as (string | null)[];
  return raw.map((r) => (typeof r === "string" ? (JSON.parse(r) as StoredSnapshot) : null));
}

/** The newest records of every failed-like topic, newest first, each with its generation's status now. */
export async function listFailed(
  deps: { kafka: Kafka; admin: Admin; redis: Redis; prefix: string; topics: Record<TopicKey, TopicSpec> },
  lastPerPartition = 500,
): Promise<FailedEntry[]> {
  const entries: FailedEntry[] = [];
  for (const key of FAILED_LIKE_TOPICS) {
    const spec = deps.topics[key];
    for (const record of await readTopic(deps.kafka, deps.admin, spec.name, { lastPerPartition })) {
      const value = parse(record.value);
      const error = (value.error ?? {}) as Record<string, unknown>;
      // A dead letter's own id is not the generation's: that is the original message's key.
      const original = unbase64(value.valueBase64);
      const originalKey = unbase64(value.keyBase64);
      const consumer = str(value.consumer);
      entries.push({
        topicKey: key,
        kind: kindOf(key),
        record,
        id: (originalKey !== null && UUID_V7.test(originalKey) ? originalKey : "") || str(value.id) || record.key || "",
        userId: str(value.userId) || str(parse(original ?? "").userId),
        code: str(error.code) || str(value.reason) || "unknown",
        message: (consumer ? `${consumer}: ` : "") + (str(error.message) || str(value.message)),
        attempts: typeof value.attempts === "number" ? value.attempts : null,
        original,
        state: null,
      });
    }
  }
  const snapshots = await readStatuses(
    deps.redis,
    deps.prefix,
    entries.map((e) => e.id),
  );
  entries.forEach((e, i) => {
    e.state = snapshots[i]?.status ?? null;
  });
  return entries.sort((a, b) => b.record.timestamp - a.record.timestamp);
}

export function filterFailed(entries: FailedEntry[], filter: FailedFilter): FailedEntry[] {
  const q = filter.q?.trim().toLowerCase();
  return entries
    .filter((e) => !filter.code || e.code === filter.code)
    .filter((e) => !q || [e.id, e.userId, e.message].some((s) => s.toLowerCase().includes(q)))
    .filter((e) => !filter.replayable || e.state === "failed");
}

/** The Unix ms a UUIDv7 was minted at (its first 48 bits). */
export const uuidv7Time = (id: string): number => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

export interface StoryEvent {
  topicKey: TopicKey;
  record: RawRecord;
  value: Record<string, unknown>;
}

export interface GenerationStory {
  id: string;
  events: StoryEvent[];
  snapshot: StoredSnapshot | null;
  log: EventMessage[];
}

/** Every record of the generation on every topic, in the order they were written, with its Redis state and log. */
export async function generationStory(
  deps: { kafka: Kafka; admin: Admin; redis: Redis; prefix: string; topics: Record<TopicKey, TopicSpec> },
  id: string,
): Promise<GenerationStory> {
  const keys = redisKeys(deps.prefix);
  // Nothing about a generation is written before its id was minted (clock skew allowed).
  const since = uuidv7Time(id) - 60_000;
  const perTopic = await Promise.all(
    (Object.keys(deps.topics) as TopicKey[]).map(async (topicKey) =>
      // Bounded: an id minted long ago (or forged to look so) must not read whole topics.
      (await readTopic(deps.kafka, deps.admin, deps.topics[topicKey].name, { since, lastPerPartition: 20_000 }))
        .filter((r) => r.key === id)
        .map((record) => ({ topicKey, record, value: parse(record.value) })),
    ),
  );
  const order = (e: StoryEvent) => (typeof e.value.seq === "number" ? e.value.seq : 0);
  const events = perTopic.flat().sort((a, b) => a.record.timestamp - b.record.timestamp || order(a) - order(b));
  const [snapshot] = await readStatuses(deps.redis, deps.prefix, [id]);
  const log = ((await deps.redis.send("LRANGE", [keys.eventLog(id), "0", "-1"])) as string[]).map(
    (m) => JSON.parse(m) as EventMessage,
  );
  return { id, events, snapshot: snapshot ?? null, log };
}
