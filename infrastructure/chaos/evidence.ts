/**
 * Gathers what the checker judges, for a set of submissions: the topics' records since the
 * first of them, the edge's answer for each accepted id, each completed image fetched, and the
 * traces a refused submit could leave in Redis (its Idempotency-Key record, a snapshot or a place
 * in the user's list under an id no 202 named).
 */
import { sha256Hex } from "../../shared/digest.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { UUID_V7, uuidv7Time } from "../../shared/uuid7.ts";
import { readTopic } from "../../worker/kafka/topic-reader.ts";
import { createRedis } from "../../worker/redis/redis-client.ts";
import type { ChaosStack } from "./chaos-stack.ts";
import type { Evidence } from "./checker.ts";
import type { Submission } from "./load-driver.ts";

/** Longest the edge or a worker may take to answer one read; a hung one is an answer too (code 0), not a hung run. */
const ANSWER_MS = 15_000;

/** Runs `task` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(task));
}

/**
 * `submissions`: those to judge, all answered. `acceptedIds`: every id accepted so far in the
 * run. `cutoff`: every submit before it has been answered, so a listed id older than it that
 * nobody accepted is a refused submit's trace.
 */
export async function collectEvidence(
  stack: ChaosStack,
  submissions: Submission[],
  acceptedIds: Set<string>,
  cutoff: number,
): Promise<Evidence> {
  const since = Math.min(...submissions.map((s) => s.submittedAt)) - 5000;
  const admin = stack.kafka.admin();
  await admin.connect();
  const read = (topic: string) => readTopic(stack.kafka, admin, topic, { since, timeoutMs: 60_000 });
  const { topics } = stack;
  const [requests, status, complete, failed, deadLetters] = await Promise.all([
    read(topics.requests.name),
    read(topics.status.name),
    read(topics.complete.name),
    read(topics.failed.name),
    read(topics.deadLetter.name),
  ]).finally(() => admin.disconnect());

  const accepted = submissions.filter((s) => s.status === 202 && s.id);
  const api = new Map<string, { code: number; status?: string }>();
  const images = new Map<string, number>();
  await inBatches(accepted, 8, async (s) => {
    const id = s.id as string;
    const response = await fetch(`${stack.edgeUrl}/api/generations/${id}`, {
      headers: { authorization: `Bearer ${stack.tokens.get(s.user)}` },
      signal: AbortSignal.timeout(ANSWER_MS),
    }).catch(() => null);
    // A body cut off by the timeout, or not JSON, is recorded as no status, not a crashed run.
    const body = response?.ok ? ((await response.json().catch(() => null)) as { status?: string } | null) : null;
    if (response && !response.ok) await response.body?.cancel();
    api.set(id, { code: response?.status ?? 0, status: body?.status });
    const url = s.watch?.imageUrl;
    if (url) {
      const image = await fetch(url, { signal: AbortSignal.timeout(ANSWER_MS) }).catch(() => null);
      await image?.arrayBuffer().catch(() => {});
      images.set(id, image?.status ?? 0);
    }
  });

  const keys = redisKeys(stack.config.keys.redisPrefix);
  const redis = await createRedis(stack.redis.url);
  try {
    const idempotencyLeft = new Set<number>();
    for (const s of submissions.filter((x) => x.status !== 202)) {
      const key = keys.idempotency(await sha256Hex(s.user), await sha256Hex(s.idempotencyKey));
      if (Number(await redis.send("EXISTS", [key])) > 0) idempotencyLeft.add(s.n);
    }
    const strayIds = new Map<string, string>();
    const stray = (id: string, where: string) => {
      if (!acceptedIds.has(id) && uuidv7Time(id) >= since && uuidv7Time(id) < cutoff) strayIds.set(id, where);
    };
    for (const user of stack.tokens.keys())
      for (const id of (await redis.send("ZRANGE", [keys.userGenerations(user), "0", "-1"])) as string[])
        stray(id, `a place in ${user}'s list`);
    const snapshotBase = keys.snapshot("");
    let cursor = "0";
    do {
      const [next, found] = (await redis.send("SCAN", [cursor, "MATCH", keys.snapshot("*"), "COUNT", "1000"])) as [
        string,
        string[],
      ];
      cursor = next;
      for (const key of found) {
        const id = key.slice(snapshotBase.length);
        if (UUID_V7.test(id)) stray(id, "a snapshot");
      }
    } while (cursor !== "0");
    return {
      submissions,
      requests,
      status,
      complete,
      failed,
      deadLetters,
      requestTopic: topics.requests.name,
      api,
      images,
      idempotencyLeft,
      strayIds,
    };
  } finally {
    redis.close();
  }
}
