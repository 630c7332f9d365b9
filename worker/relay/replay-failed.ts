import { FailedEvent, RequestEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { EVENT_LOG_MAX, GENERATION_TTL_SECONDS, redisKeys } from "../../shared/redis-keys.ts";
import { RESET_FOR_REPLAY } from "../../shared/redis-scripts.ts";
import type { BatchingProducer } from "../gateway/batching-producer.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import { luaScript } from "../redis/lua-script.ts";
import type { Redis } from "../redis/redis-client.ts";

const resetForReplay = luaScript(RESET_FOR_REPLAY);

export interface ReplayResult {
  replayed: string[];
  /** Ids that were not replayed, with why (not failed any more, already replayed in this run…). */
  skipped: { id: string; reason: string }[];
}

/** Every failed event currently in the topic, read from the start up to its end offsets. */
export async function readFailedEvents(kafka: Kafka, topic: string): Promise<FailedEvent[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(
    ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]),
  );
  const events: FailedEvent[] = [];
  if (remaining.size === 0) return events;
  const consumer = kafka.consumer({ groupId: `replay-${crypto.randomUUID()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          const parsed = FailedEvent.decode(message.value);
          if (parsed.ok) events.push(parsed.value);
          if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return events;
}

/**
 * Replays failed generations under their own ids: the Redis state goes back to queued and the
 * original request is produced again, with the attempt RESET_FOR_REPLAY chose (above every
 * earlier record of the generation). Only generations whose current state is `failed` are
 * replayed, so running it twice replays nothing twice.
 */
export async function replayFailed(options: {
  kafka: Kafka;
  producer: BatchingProducer;
  redis: Redis;
  prefix: string;
  topics: { failed: string; requests: string };
  ids?: string[];
}): Promise<ReplayResult> {
  const keys = redisKeys(options.prefix);
  const wanted = options.ids?.length ? new Set(options.ids) : null;
  const result: ReplayResult = { replayed: [], skipped: [] };
  const seen = new Set<string>();
  for (const failed of await readFailedEvents(options.kafka, options.topics.failed)) {
    if (wanted && !wanted.has(failed.id)) continue;
    if (seen.has(failed.id)) continue;
    seen.add(failed.id);
    const reset = await resetForReplay(
      options.redis,
      [
        keys.snapshot(failed.id),
        keys.eventLog(failed.id),
        keys.events(failed.id),
        keys.terminal(failed.id),
        keys.cancel(failed.id),
        keys.attemptFloor(failed.id),
      ],
      [new Date().toISOString(), GENERATION_TTL_SECONDS, EVENT_LOG_MAX, Math.min(100, failed.attempts + 1)],
    );
    if (reset === null) {
      result.skipped.push({ id: failed.id, reason: "not failed any more" });
      continue;
    }
    if (reset === -1) {
      result.skipped.push({ id: failed.id, reason: "replayed up to attempt 100 already" });
      continue;
    }
    const request = RequestEvent.create({ ...failed.request, attempt: Number(reset) });
    const message = toKafkaMessage(RequestEvent, request, newTraceparent());
    await options.producer.send(options.topics.requests, [
      {
        key: message.key,
        value: message.value,
        headers: Object.entries(message.headers).map(([key, value]) => ({ key, value })),
      },
    ]);
    result.replayed.push(failed.id);
  }
  for (const id of wanted ?? []) if (!seen.has(id)) result.skipped.push({ id, reason: "not in the failed topic" });
  return result;
}
