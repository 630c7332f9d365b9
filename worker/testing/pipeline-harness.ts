/**
 * The whole pipeline in one test process, on the real broker and Redis with fresh topic, group
 * and key names: Kafka REST gateway, Redis REST bridge, status relay, workers and the edge, each
 * served over real HTTP on an ephemeral loopback port. Tests then talk to the edge as clients do.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeApp } from "../../edge/app.ts";
import { mintApiToken } from "../../edge/auth.ts";
import { buildEdgeDeps } from "../../edge/build-deps.ts";
import { parseConfig, type SectionConfig } from "../../shared/config/parse-config.ts";
import type { WebhookPolicy } from "../../shared/net/webhook-url.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import { roundRobinTopics, topicSpecs } from "../../shared/topics.ts";
import { createBacklogReporter } from "../backlog/backlog-reporter.ts";
import { createBatchingProducer } from "../gateway/batching-producer.ts";
import { createKafkaRestGateway } from "../gateway/gateway-app.ts";
import { generateNow } from "../generation/generate-now.ts";
import type { GenerationConsumer } from "../generation/generation-consumer.ts";
import { createGenerationState } from "../generation/generation-state.ts";
import { createGenerationWorker } from "../generation/generation-worker.ts";
import { createProceduralProvider } from "../generation/procedural-provider.ts";
import type { GenerationProvider } from "../generation/provider.ts";
import { openHistoryDb } from "../history/history-db.ts";
import { createHistoryWriter } from "../history/history-writer.ts";
import { historyRoutes } from "../http/history-routes.ts";
import { serveInternal } from "../http/internal-server.ts";
import { createInternalApp, createWorkerApp } from "../http/worker-app.ts";
import { imageRoutes } from "../images/image-routes.ts";
import { createLocalImageStore } from "../images/local-image-store.ts";
import { createDeadLetters } from "../kafka/dead-letters.ts";
import { ensureTopics } from "../kafka/topic-admin.ts";
import { createPurger } from "../lifecycle/purge-generation.ts";
import { createTombstones } from "../lifecycle/tombstones.ts";
import { createRedis, createRedisSubscriber, type Redis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createTestBridgeUser } from "../redis-bridge/bridge-test-server.ts";
import { createRedisRestBridge } from "../redis-bridge/redis-rest-bridge.ts";
import { createSnapshotWriter } from "../relay/snapshot-writer.ts";
import { createStatusRelay } from "../relay/status-relay.ts";
import type { Resolve } from "../webhooks/destination.ts";
import { createWebhookDispatcher, WEBHOOK_DISPATCHER } from "../webhooks/webhook-dispatcher.ts";
import { createLiveService, serveWithWebSockets } from "../ws/live-service.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "./kafka-test-env.ts";
import { freePort } from "./process-pipeline.ts";

export { freePort };

export interface PipelineOptions {
  provider?: GenerationProvider;
  workers?: number;
  maxConcurrent?: number;
  /** GENERATION_LOOKAHEAD and GENERATION_PRIORITY_AGING of the workers. */
  lookahead?: number;
  priorityAging?: number;
  timeoutMs?: number;
  maxAttempts?: number;
  /** Extra edge environment, e.g. RATE_LIMIT_PER_MINUTE or ENABLE_KAFKA_IMAGE_GENERATION. */
  edgeEnv?: Record<string, string>;
  /** GENERATION_PROGRESS_INTERVAL_MS of the workers (default 250). */
  progressIntervalMs?: number;
  /** WebSocket/SSE server instances, each with its own Redis subscription (default 1). */
  liveServers?: number;
  live?: {
    maxSocketsPerUser?: number;
    maxSocketsPerAddress?: number;
    leaseMs?: number;
    maxBufferedBytes?: number;
    trustedClientIpHeader?: string;
  };
  /** DATABASE_URL of the history (default: a fresh SQLite file). */
  databaseUrl?: string;
  /** The webhook dispatcher's destination policy (default: public addresses only), resolver, CA and lease. */
  webhooks?: {
    /** False: no in-process dispatcher (a test runs its own, e.g. as a process it kills). */
    enabled?: boolean;
    policy?: WebhookPolicy & { timeoutMs?: number };
    resolve?: Resolve;
    ca?: string;
    leaseMs?: number;
    concurrency?: { total: number; perUser: number };
  };
  /** BACKLOG_REPORT_INTERVAL_MS of the relay's backlog reporter (default 100). */
  backlogIntervalMs?: number;
  /** The Redis everything uses (default: the shared test Redis), e.g. a test's own to restart. */
  redisUrl?: string;
}

const secret = () => crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "");
const serve = (fetch: (r: Request) => Response | Promise<Response>) =>
  Bun.serve({ port: 0, hostname: "127.0.0.1", fetch });
const TERMINAL = new Set(["completed", "failed", "canceled", "expired"]);

export async function startPipeline(options: PipelineOptions = {}) {
  const kafkaConfig: SectionConfig<"kafka"> = freshKafkaConfig();
  const topics = topicSpecs(kafkaConfig);
  const kafka = testKafka(kafkaConfig);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(topics));
  await admin.disconnect();

  const prefix = freshPrefix();
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const redis = await createRedis(redisUrl);
  const jwtSecret = secret();
  const restPassword = secret();
  const redisToken = secret();
  const imageDir = mkdtempSync(join(tmpdir(), "pixel-images-"));
  const store = createLocalImageStore(imageDir);
  const dataDir = mkdtempSync(join(tmpdir(), "pixel-history-"));
  const history = await openHistoryDb(options.databaseUrl ?? `file:${join(dataDir, "history.sqlite")}`);
  const purger = createPurger({ redis, prefix, history, store, logger: silentLogger });
  const provider = options.provider ?? createProceduralProvider();
  const stops: (() => Promise<void> | void)[] = [];

  const producer = createBatchingProducer({ kafka, logger: silentLogger, roundRobinTopics: roundRobinTopics(topics) });
  await producer.start();
  const gateway = serve(
    createKafkaRestGateway({
      producer,
      username: "edge",
      password: restPassword,
      allowedTopics: [topics.requests.name],
      logger: silentLogger,
    }).fetch,
  );
  // The edge's Redis goes through the bridge as its least-privileged ACL user, as in production.
  const bridgeUser = await createTestBridgeUser(prefix, redisUrl);
  const bridgeRedis = await createRedis(bridgeUser.url);
  const bridge = createRedisRestBridge({
    redis: bridgeRedis,
    openTransactionConnection: () => createRedis(bridgeUser.url),
    token: redisToken,
    logger: silentLogger,
  });
  const bridgeServer = serve(bridge.app.fetch);

  const deadLetters = (consumer: string) =>
    createDeadLetters({ producer, topic: topics.deadLetter.name, consumer, logger: silentLogger });
  const relayGroup = `${kafkaConfig.consumerGroup}-relay`;
  const writer = createSnapshotWriter(redis, prefix);
  const relay = createStatusRelay({
    kafka,
    groupId: relayGroup,
    topics: { requests: topics.requests.name, status: topics.status.name },
    writer,
    deadLetters: deadLetters(relayGroup),
    logger: silentLogger,
  });
  await relay.start();
  const webhookWakeups = await createRedisSubscriber(redisUrl, {
    onResubscribed: (channels) => webhooks.resubscribed(channels),
  });
  const webhooks = createWebhookDispatcher({
    redis,
    subscriber: webhookWakeups,
    prefix,
    policy: options.webhooks?.policy ?? { allowPrivate: false, allowHttp: false },
    deadLetters: deadLetters(WEBHOOK_DISPATCHER),
    logger: silentLogger,
    schedule: [50, 100, 200],
    ...(options.webhooks?.resolve ? { resolve: options.webhooks.resolve } : {}),
    ...(options.webhooks?.ca ? { ca: options.webhooks.ca } : {}),
    ...(options.webhooks?.leaseMs ? { leaseMs: options.webhooks.leaseMs } : {}),
    ...(options.webhooks?.concurrency ? { concurrency: options.webhooks.concurrency } : {}),
    deferMs: 50,
  });
  if (options.webhooks?.enabled !== false) await webhooks.start();
  const backlog = createBacklogReporter({
    admin: kafka.admin(),
    redis,
    prefix,
    topic: topics.requests.name,
    groupId: kafkaConfig.consumerGroup,
    intervalMs: options.backlogIntervalMs ?? 100,
    logger: silentLogger,
  });
  backlog.start();
  const historyGroup = `${kafkaConfig.consumerGroup}-history`;
  const historyWriter = createHistoryWriter({
    kafka,
    groupId: historyGroup,
    topics: { complete: topics.complete.name, failed: topics.failed.name, status: topics.status.name },
    history,
    tombstones: createTombstones(redis, prefix),
    discardImages: purger.discardImages,
    deadLetters: deadLetters(historyGroup),
    logger: silentLogger,
  });
  await historyWriter.start();

  const imageServer = serve(createWorkerApp({ images: imageRoutes(store) }).fetch);
  // The worker's internal port, which the edge's synchronous path calls.
  const internalServer = serveInternal(
    createInternalApp({
      metrics: () => "",
      notReady: async () => [],
      history: historyRoutes({ secret: jwtSecret, history, purger }),
      internal: {
        secret: jwtSecret,
        generateNow: (request) =>
          generateNow(request, {
            provider,
            store,
            imageUrl,
            timeoutMs: options.timeoutMs ?? 30_000,
            logger: silentLogger,
          }),
      },
    }),
    { host: "127.0.0.1", port: 0 },
  );
  const imageBase = `http://127.0.0.1:${imageServer.port}/images`;
  function imageUrl(key: string) {
    return `${imageBase}/${key}`;
  }

  const state = createGenerationState(redis, prefix);
  const workers: GenerationConsumer[] = [];
  for (let i = 0; i < (options.workers ?? 1); i++) {
    const worker = createGenerationWorker({
      kafka,
      producer,
      deadLetters: deadLetters(kafkaConfig.consumerGroup),
      topics,
      groupId: kafkaConfig.consumerGroup,
      maxConcurrent: options.maxConcurrent ?? 4,
      lookahead: options.lookahead,
      priorityAging: options.priorityAging,
      provider,
      store,
      state,
      applyLive: writer.applyLive,
      workerId: `test-worker-${i}`,
      policy: {
        timeoutMs: options.timeoutMs ?? 30_000,
        maxAttempts: options.maxAttempts ?? 3,
        retryBaseMs: 20,
        progressIntervalMs: options.progressIntervalMs ?? 250,
      },
      imageUrl,
      discardImages: purger.discardImages,
      logger: silentLogger,
    });
    await worker.start();
    workers.push(worker);
  }
  for (const w of workers) while (!w.ready) await Bun.sleep(50);
  while (!relay.ready || !historyWriter.ready) await Bun.sleep(50);

  // The edge serves the studio page, so its origin is the one live servers admit: take its port now.
  const edgePort = freePort();
  const studioOrigin = `http://127.0.0.1:${edgePort}`;
  /** A WebSocket/SSE server as the workers and `worker/ws/main.ts` build it, from its configuration. */
  async function startLive(port = 0, overrides: PipelineOptions["live"] = {}) {
    const liveOptions = { ...options.live, ...overrides };
    const config = parseConfig(
      {
        AUTH_JWT_SECRET: jwtSecret,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        STUDIO_ORIGIN: studioOrigin,
        // Every test client comes from 127.0.0.1, so the address cap is high unless a test sets it.
        WS_MAX_SOCKETS_PER_USER: String(liveOptions.maxSocketsPerUser ?? 1000),
        WS_MAX_SOCKETS_PER_IP: String(liveOptions.maxSocketsPerAddress ?? 100_000),
        WS_SLOT_LEASE_MS: String(liveOptions.leaseMs ?? 60_000),
        WS_MAX_BUFFERED_BYTES: String(liveOptions.maxBufferedBytes ?? 1 << 20),
        WS_TRUSTED_CLIENT_IP_HEADER: liveOptions.trustedClientIpHeader ?? "",
      },
      ["worker", "redis", "keys", "auth", "public"],
    );
    const live = await createLiveService(config, redis, silentLogger);
    const server = serveWithWebSockets(live.routes.fetch, { host: "127.0.0.1", port });
    return {
      url: `ws://127.0.0.1:${server.port}`,
      port: server.port ?? 0,
      sockets: live.sockets,
      /** What SIGTERM does first: sockets closed with 1001 and new clients refused, still listening. */
      closeAll: live.close,
      /** What SIGTERM does to a live server: close sockets with 1001, stop listening. */
      async stop() {
        live.close();
        await server.stop(true);
      },
    };
  }
  const liveServers: Awaited<ReturnType<typeof startLive>>[] = [];
  for (let i = 0; i < (options.liveServers ?? 1); i++) liveServers.push(await startLive());

  const edgeEnv: Record<string, string> = {
    AUTH_JWT_SECRET: jwtSecret,
    KAFKA_REST_URL: `http://127.0.0.1:${gateway.port}`,
    KAFKA_REST_USERNAME: "edge",
    KAFKA_REST_PASSWORD: restPassword,
    UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${bridgeServer.port}`,
    UPSTASH_REDIS_REST_TOKEN: redisToken,
    KAFKA_TOPIC_PREFIX: kafkaConfig.topicPrefix,
    REDIS_KEY_PREFIX: prefix,
    WORKER_URL: `http://127.0.0.1:${internalServer.port}`,
    PUBLIC_IMAGE_URL: imageBase,
    PUBLIC_WS_URL: liveServers[0]?.url ?? "ws://127.0.0.1:1",
    STUDIO_ORIGIN: studioOrigin,
    LOG_LEVEL: "error",
    // Every test client shares 127.0.0.1: per-address limits are tested on their own.
    SESSIONS_PER_IP_PER_HOUR: "1000000",
    ANONYMOUS_SUBMITS_PER_IP_PER_MINUTE: "1000000",
    READS_PER_IP_PER_MINUTE: "10000000",
    ...options.edgeEnv,
  };
  /** An edge on `port` (any free one by default) over this pipeline's gateway and bridge. */
  const serveEdge = (env: Record<string, string>, port = 0) =>
    Bun.serve({
      port,
      hostname: "127.0.0.1",
      fetch: createEdgeApp({ ...buildEdgeDeps({ ...edgeEnv, ...env }), logger: silentLogger }).fetch,
    });
  const edge = serveEdge({}, edgePort);
  const edgeUrl = `http://127.0.0.1:${edge.port}`;

  const extraEdges: ReturnType<typeof serveEdge>[] = [];
  stops.push(
    async () => {
      for (const extra of extraEdges) await extra.stop(true);
    },
    () => edge.stop(true),
    async () => {
      for (const live of liveServers) await live.stop().catch(() => {});
    },
    async () => {
      await Promise.all(workers.map((w) => w.stop(5_000)));
    },
    () => relay.stop(),
    () => historyWriter.stop(),
    () => webhooks.stop(),
    () => webhookWakeups.close(),
    () => backlog.stop(),
    () => imageServer.stop(true),
    () => internalServer.stop(true),
    () => gateway.stop(true),
    () => producer.close(),
    () => bridgeServer.stop(true),
    () => bridge.close(),
    () => bridgeRedis.close(),
    () => bridgeUser.drop(),
    () => history.close(),
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => deleteKeys(redis, prefix),
    () => redis.close(),
    () => deleteTestTopics(kafkaConfig),
    () => rmSync(imageDir, { recursive: true, force: true }),
  );

  const pipeline = {
    edgeUrl,
    /** The worker's internal port (metrics, readiness, the synchronous route). */
    workerInternalUrl: `http://127.0.0.1:${internalServer.port}`,
    kafka,
    kafkaConfig,
    topics,
    redis: redis as Redis,
    prefix,
    imageDir,
    store,
    history,
    historyWriter,
    purger,
    jwtSecret,
    workers,
    relay,
    groups: { relay: relayGroup, history: historyGroup, workers: kafkaConfig.consumerGroup },
    liveServers,
    studioOrigin,
    /** Another edge over the same pipeline with `env` on top of this one's (e.g. other limits); stopped with it. */
    startEdge(env: Record<string, string>): string {
      const extra = serveEdge(env);
      extraEdges.push(extra);
      return `http://127.0.0.1:${extra.port}`;
    },
    /** The environment the edge runs with, for starting it elsewhere (another runtime, another process). */
    edgeEnv,
    /** The relay's backlog reporter (the figure the edge's backlog guard reads). */
    backlog,
    /** Starts another live server (e.g. on the port of one that was stopped: a restart). */
    async startLive(port?: number, overrides?: PipelineOptions["live"]) {
      const live = await startLive(port, overrides);
      liveServers.push(live);
      return live;
    },
    token: (userId: string) => mintApiToken(userId, jwtSecret),
    /** Creates (or rotates) the user's webhook signing secret through the API; returns the `whsec_…` secret. */
    async webhookSecret(userId: string): Promise<string> {
      const response = await pipeline.api("/api/webhook-secret", { method: "POST", user: userId });
      if (response.status !== 201) throw new Error(`webhook secret: HTTP ${response.status}`);
      return ((await response.json()) as { secret: string }).secret;
    },
    async api(path: string, init: RequestInit & { user?: string } = {}) {
      const headers = new Headers(init.headers);
      if (init.user && !headers.has("authorization"))
        headers.set("authorization", `Bearer ${await pipeline.token(init.user)}`);
      return fetch(`${edgeUrl}${path}`, { ...init, headers });
    },
    async submit(user: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
      return pipeline.api("/api/generations", {
        method: "POST",
        user,
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    },
    /** Polls the edge until the generation matches (default: ended); fails after `timeoutMs`. */
    async waitFor(
      user: string,
      id: string,
      until: (g: GenerationSnapshot) => boolean = (g) => TERMINAL.has(g.status),
      timeoutMs = 30_000,
    ) {
      const deadline = Date.now() + timeoutMs;
      let last: GenerationSnapshot | null = null;
      while (Date.now() < deadline) {
        const response = await pipeline.api(`/api/generations/${id}`, { user });
        if (response.ok) {
          last = (await response.json()) as GenerationSnapshot;
          if (until(last)) return last;
        }
        await Bun.sleep(50);
      }
      throw new Error(`generation ${id} did not reach the expected state; last seen ${JSON.stringify(last)}`);
    },
    async stop() {
      for (const stop of stops) await Promise.resolve(stop()).catch(() => {});
    },
  };
  return pipeline;
}
export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;
