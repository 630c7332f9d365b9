/**
 * How many WebSockets one live server instance holds, and its resident memory per socket: the
 * server runs alone in its own process; sockets are opened in steps by client processes (one per
 * step), each on its own queued generation, so every socket also holds one Redis channel.
 */
import { mintEventToken } from "../shared/auth/event-token.ts";
import { RequestEvent } from "../shared/events/events.ts";
import { uuidv7 } from "../shared/uuid7.ts";
import { createRedis } from "../worker/redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../worker/redis/redis-test-env.ts";
import { createSnapshotWriter } from "../worker/relay/snapshot-writer.ts";
import { type LiveServer, lines, openFilesLimit, rssKiB, spawnBun, startLiveServer } from "./processes.ts";
import type { HoldResult } from "./ws-clients.ts";

const CLIENTS = new URL("./ws-clients.ts", import.meta.url).pathname;
const PARTITIONS = 6;
const WRITE_CHUNK = 500;
/** Lets the server finish the last handshakes' work before its memory is read. */
const SETTLE_MS = 1_000;

export interface CapacityStep {
  /** Sockets the clients hold after this step. */
  target: number;
  /** Open sockets as the server counts them. */
  held: number;
  snapshots: number;
  failed: number;
  openSeconds: number;
  rssKiB: number;
}

/** Queued generations written as the relay writes them (APPLY_REQUEST), one user each; returns a socket URL per generation. */
async function queuedGenerations(count: number, prefix: string, secret: string, liveUrl: string): Promise<string[]> {
  const redis = await createRedis(TEST_REDIS_URL);
  const writer = createSnapshotWriter(redis, prefix);
  const write = async (n: number) => {
    const event = RequestEvent.create({
      id: uuidv7(),
      userId: `bench-user-${n}`,
      params: { prompt: `bench ${n}`, style: "pixel-art", width: 1024, height: 1024, format: "webp", seed: n },
      createdAt: new Date().toISOString(),
      attempt: 1,
    });
    await writer.applyRequest(event, n % PARTITIONS, String(n));
    return `${liveUrl}/ws/generations/${event.id}?token=${await mintEventToken(event.userId, event.id, secret)}`;
  };
  const urls: string[] = [];
  try {
    for (let start = 0; start < count; start += WRITE_CHUNK) {
      const chunk = Array.from({ length: Math.min(WRITE_CHUNK, count - start) }, (_, i) => start + i);
      urls.push(...(await Promise.all(chunk.map(write))));
    }
  } finally {
    redis.close();
  }
  return urls;
}

export async function measureSocketCapacity(targets: number[]) {
  const prefix = freshPrefix().replace("test-", "bench-");
  const secret = `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");
  const children: ReturnType<typeof spawnBun>[] = [];
  const steps: CapacityStep[] = [];
  let live: LiveServer | undefined;
  try {
    live = await startLiveServer({ prefix, secret });
    const urls = await queuedGenerations(Math.max(...targets), prefix, secret, live.url);
    await Bun.sleep(SETTLE_MS);
    const idleKiB = rssKiB(live.pid);
    for (const target of targets) {
      const previous = steps.at(-1);
      const started = performance.now();
      const child = spawnBun([CLIENTS, "hold"], {}, new Blob([urls.slice(previous?.target ?? 0, target).join("\n")]));
      children.push(child);
      const first = await lines(child.stdout).next();
      if (first.done) throw new Error(`a client process ended early (exit ${await child.exited})`);
      const result = JSON.parse(first.value) as HoldResult;
      const openSeconds = (performance.now() - started) / 1000;
      await Bun.sleep(SETTLE_MS);
      steps.push({
        target,
        held: await live.sockets(),
        snapshots: (previous?.snapshots ?? 0) + result.snapshots,
        failed: (previous?.failed ?? 0) + result.failed,
        openSeconds,
        rssKiB: rssKiB(live.pid),
      });
      if (result.failed > 0) break;
    }
    return { idleKiB, steps, openFilesLimit: openFilesLimit(live.pid) };
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => c.exited));
    await live?.stop();
    const redis = await createRedis(TEST_REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.close();
  }
}
