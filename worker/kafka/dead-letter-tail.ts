import { DeadLetterEvent } from "../../shared/events/dead-letter-event.ts";
import type { Kafka } from "./kafka-client.ts";

/** Dead letters of one kind: who parked them, from where, with which code. */
export interface DeadLetterGroup {
  consumer: string;
  source: string;
  code: string;
  count: number;
  lastAt: string;
  lastReason: string;
}

/**
 * Reads the newest dead letters (at most `perPartition` per partition, so a flood cannot make
 * it slow) and groups them by consumer, source and code. Returns what it read by `timeoutMs`.
 */
export async function readDeadLetterTail(
  kafka: Kafka,
  topic: string,
  options: { perPartition: number; timeoutMs: number },
): Promise<DeadLetterGroup[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const wanted = new Map(
    ends
      .filter((e) => Number(e.high) > Number(e.low))
      .map((e) => [
        e.partition,
        { from: Math.max(Number(e.low), Number(e.high) - options.perPartition), to: Number(e.high) },
      ]),
  );
  if (wanted.size === 0) return [];
  const letters: DeadLetterEvent[] = [];
  const groupId = `dead-letter-tail-${crypto.randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(resolve, options.timeoutMs);
      const pending = new Set(wanted.keys());
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const range = wanted.get(partition);
            if (!range || Number(message.offset) < range.from) return;
            const parsed = DeadLetterEvent.decode(message.value);
            if (parsed.ok) letters.push(parsed.value);
            if (Number(message.offset) + 1 >= range.to) pending.delete(partition);
            if (pending.size === 0) resolve();
          },
        })
        .catch(reject);
      for (const [partition, range] of wanted) consumer.seek({ topic, partition, offset: String(range.from) });
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    const cleanup = kafka.admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([groupId]))
      .catch(() => {})
      .finally(() => cleanup.disconnect().catch(() => {}));
  }
  return groupDeadLetters(letters);
}

export function groupDeadLetters(letters: DeadLetterEvent[]): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup>();
  for (const letter of [...letters].sort((a, b) => a.deadLetteredAt.localeCompare(b.deadLetteredAt))) {
    const source = letter.source.topic ?? letter.source.redisKey ?? letter.source.kind;
    const key = JSON.stringify([letter.consumer, source, letter.error.code]);
    const group = groups.get(key) ?? {
      consumer: letter.consumer,
      source,
      code: letter.error.code,
      count: 0,
      lastAt: "",
      lastReason: "",
    };
    group.count++;
    group.lastAt = letter.deadLetteredAt;
    group.lastReason = letter.error.message;
    groups.set(key, group);
  }
  return [...groups.values()];
}
