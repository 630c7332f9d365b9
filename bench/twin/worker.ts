/**
 * One twin worker process (`bun bench/twin/worker.ts <queue prefix> <queue name>`), laid out as
 * ours (worker/main.ts): a BullMQ worker with MAX_CONCURRENT_GENERATIONS; our WebSocket routes
 * fed by QueueEvents and the images on WS_PORT, probes and the synchronous route on
 * WORKER_INTERNAL_PORT, both shared by the instances through SO_REUSEPORT. Each job's end and log
 * lines end its snapshot and go to the same history as ours (twin-endings.ts), read by the same routes.
 */
import { hostname } from "node:os";

import { generateNow } from "../../worker/generation/generate-now.ts";
import { createProvider } from "../../worker/generation/provider-factory.ts";
import { openHistoryDb } from "../../worker/history/history-db.ts";
import { historyRoutes } from "../../worker/http/history-routes.ts";
import { createInternalApp, createWorkerApp } from "../../worker/http/worker-app.ts";
import { imageRoutes } from "../../worker/images/image-routes.ts";
import { createImageStore } from "../../worker/images/image-store-factory.ts";
import { createPurger } from "../../worker/lifecycle/purge-generation.ts";
import { createTombstones } from "../../worker/lifecycle/tombstones.ts";
import { createRedis } from "../../worker/redis/redis-client.ts";
import { createSnapshotWriter } from "../../worker/relay/snapshot-writer.ts";
import { configOrExit, loggerFor, orExit } from "../../worker/runtime/entry.ts";
import { serveWithWebSockets } from "../../worker/ws/live-service.ts";
import { createLiveSlots } from "../../worker/ws/live-slots.ts";
import { liveRoutes } from "../../worker/ws/ws-routes.ts";
import { openQueue, openQueueEvents, openWorker } from "../bullmq-side.ts";
import { generationProcessor } from "./generation-processor.ts";
import { historyOnThread } from "./history-thread.ts";
import { bullmqFeedReader, queueEventsFanout } from "./live-feed.ts";
import { twinEndings } from "./twin-endings.ts";

const [prefix = "", name = ""] = process.argv.slice(2);
const config = configOrExit(process.env, ["worker", "redis", "keys", "auth", "public", "listen", "database"]);
const logger = loggerFor(config, "twin-worker");
const provider = orExit(() => createProvider(config.worker));
const store = orExit(() => createImageStore(config.worker));
const imageUrl = (key: string) => `${config.public.imageUrl}/${key}`;
const where = { redisUrl: config.redis.url, prefix, name };

const queue = openQueue(where, { attempts: config.worker.maxAttempts, backoffMs: config.worker.retryBaseMs });
const events = openQueueEvents(where);
await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
// The same connection caps as ours (per user and per address, across instances), leased in Redis.
const redis = await createRedis(config.redis.url, { name: `twin-worker-${process.pid}` });
const historyDb = await openHistoryDb(config.database.url);
// Written on a thread of its own (history-thread.ts); the routes read through `historyDb`.
const historyWriter = historyOnThread(config.database.url);
const endings = twinEndings({
  history: historyWriter,
  snapshots: createSnapshotWriter(redis, config.keys.redisPrefix),
  tombstones: createTombstones(redis, config.keys.redisPrefix),
  logger,
});
// Deleting a generation removes its rows, images and keys as ours does (its BullMQ job stays).
const purger = createPurger({ redis, prefix: config.keys.redisPrefix, history: historyDb, store, logger });
const slots = createLiveSlots({
  redis,
  prefix: config.keys.redisPrefix,
  maxPerUser: config.worker.maxSocketsPerUser,
  maxPerAddress: config.worker.maxSocketsPerAddress,
  leaseMs: config.worker.socketLeaseMs,
  logger,
});
const live = liveRoutes({
  secret: config.auth.jwtSecret,
  prefix: config.keys.redisPrefix,
  reader: bullmqFeedReader(queue),
  fanout: queueEventsFanout(events, queue, config.keys.redisPrefix),
  studioOrigin: config.public.studioOrigin,
  slots,
  trustedClientIpHeader: config.worker.trustedClientIpHeader,
  maxBufferedBytes: config.worker.maxBufferedBytes,
  logger,
});
const worker = openWorker(
  where,
  generationProcessor({
    provider,
    store,
    imageUrl,
    policy: config.worker,
    endings,
    workerId: `${hostname()}-twin-${process.pid}`,
  }),
  config.worker.maxConcurrent,
);
const app = createWorkerApp({ images: imageRoutes(store), live: live.app });
const internalApp = createInternalApp({
  metrics: () => "",
  history: historyRoutes({ secret: config.auth.jwtSecret, history: historyDb, purger }),
  notReady: async () => (worker.isRunning() ? [] : ["bullmq-worker"]),
  internal: {
    secret: config.auth.jwtSecret,
    generateNow: (request) =>
      generateNow(request, { provider, store, imageUrl, timeoutMs: config.worker.timeoutMs, logger }),
  },
});
const server = serveWithWebSockets(app.fetch, { host: config.listen.host, port: config.worker.port });
const internalServer = Bun.serve({
  hostname: config.listen.host,
  port: config.worker.internalPort,
  reusePort: true,
  fetch: internalApp.fetch,
});
await worker.waitUntilReady();
logger.info("twin worker ready", { port: server.port, maxConcurrent: config.worker.maxConcurrent });

process.once("SIGTERM", () => {
  live.closeAll();
  void (async () => {
    await worker.close();
    // The servers first: the history routes read the database until they stop.
    await Promise.all([events.close(), queue.close(), server.stop(), internalServer.stop()]);
    await endings.close();
    await historyWriter.close();
    await historyDb.close();
    slots.close();
    redis.close();
    process.exit(0);
  })();
});
