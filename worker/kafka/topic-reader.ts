/**
 * Reads a topic's records without joining any pipeline group: from a start (a time, or the last
 * N records of each partition) up to the end offsets seen when it began, so it always ends.
 */
import type { Admin, Kafka } from "../kafka/kafka-client.ts";

export interface RawRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string;
}

export interface ReadOptions {
  /** Only records written at or after this time (Unix ms). */
  since?: number;
  /** At most this many of the newest records per partition. */
  lastPerPartition?: number;
  timeoutMs?: number;
}

export async function readTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  options: ReadOptions = {},
): Promise<RawRecord[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const byTime =
    options.since === undefined ? null : await admin.fetchTopicOffsetsByTimestamp(topic, Math.max(0, options.since));
  const ranges = new Map<number, { start: number; end: number }>();
  for (const e of ends) {
    const end = Number(e.high);
    let start = Number(e.low);
    const atTime = byTime?.find((t) => t.partition === e.partition);
    // -1: no record at or after that time.
    if (atTime) start = Math.max(start, Number(atTime.offset) < 0 ? end : Number(atTime.offset));
    if (options.lastPerPartition !== undefined) start = Math.max(start, end - options.lastPerPartition);
    if (start < end) ranges.set(e.partition, { start, end });
  }
  const records: RawRecord[] = [];
  if (ranges.size === 0) return records;

  const consumer = kafka.consumer({ groupId: `ops-reader-${crypto.randomUUID()}`, allowAutoTopicCreation: false });
  const remaining = new Set(ranges.keys());
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`reading ${topic} took longer than ${options.timeoutMs ?? 20_000} ms`)),
        options.timeoutMs ?? 20_000,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const range = ranges.get(partition);
            const offset = Number(message.offset);
            // Records before the seek took effect, or written after we began, are not ours.
            if (!range || offset < range.start || offset >= range.end) return;
            records.push({
              topic,
              partition,
              offset,
              timestamp: Number(message.timestamp),
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? "",
            });
            if (offset + 1 >= range.end) remaining.delete(partition);
            if (remaining.size === 0) resolve();
          },
        })
        .catch(reject);
      for (const [partition, { start }] of ranges) consumer.seek({ topic, partition, offset: String(start) });
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
  }
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
