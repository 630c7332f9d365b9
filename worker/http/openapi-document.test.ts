import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { generateNow } from "../generation/generate-now.ts";
import { createProceduralProvider } from "../generation/procedural-provider.ts";
import { openHistoryDb } from "../history/history-db.ts";
import { imageRoutes } from "../images/image-routes.ts";
import { createLocalImageStore } from "../images/local-image-store.ts";
import { createPurger } from "../lifecycle/purge-generation.ts";
import { createRedis, createRedisSubscriber } from "../redis/redis-client.ts";
import { freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { documentedOperations, servedOperations } from "../testing/openapi-contract.ts";
import { createFanout } from "../ws/fanout.ts";
import { createFeedReader } from "../ws/feed-reader.ts";
import { liveRoutes } from "../ws/ws-routes.ts";
import { historyRoutes } from "./history-routes.ts";
import { workerOpenApiDocument } from "./openapi-document.ts";
import { createInternalApp, createWorkerApp } from "./worker-app.ts";

const imageDir = mkdtempSync(join(tmpdir(), "openapi-images-"));
const redis = await createRedis(TEST_REDIS_URL);
const subscriber = await createRedisSubscriber(TEST_REDIS_URL);
const history = await openHistoryDb(`file:${join(imageDir, "history.sqlite")}`);
afterAll(async () => {
  await history.close();
  subscriber.close();
  redis.close();
  rmSync(imageDir, { recursive: true, force: true });
});

test("every route a worker serves is documented, and the document lists no other", () => {
  const prefix = freshPrefix();
  const live = liveRoutes({
    secret: "s".repeat(40),
    prefix,
    reader: createFeedReader(redis, prefix),
    fanout: createFanout(subscriber, silentLogger),
    studioOrigin: "http://localhost:8787",
    slots: { acquire: async () => "user" },
    trustedClientIpHeader: "",
    maxBufferedBytes: 1 << 20,
    logger: silentLogger,
  });
  // Composed as worker/main.ts composes its two listeners.
  const store = createLocalImageStore(imageDir);
  const provider = createProceduralProvider();
  const app = createWorkerApp({ images: imageRoutes(store), live: live.app });
  const internal = createInternalApp({
    metrics: () => "",
    notReady: async () => [],
    history: historyRoutes({
      secret: "s".repeat(40),
      history,
      purger: createPurger({ redis, prefix, history, store, logger: silentLogger }),
    }),
    internal: {
      secret: "s".repeat(40),
      generateNow: (request) =>
        generateNow(request, {
          provider,
          store,
          imageUrl: (key) => `/images/${key}`,
          timeoutMs: 10_000,
          logger: silentLogger,
        }),
    },
  });
  const document = workerOpenApiDocument(parseConfig({}, ["public"]));
  expect(servedOperations([...app.routes, ...internal.routes])).toEqual(documentedOperations(document));
});

test("the worker's server is PUBLIC_WS_URL as HTTP", () => {
  const document = workerOpenApiDocument(parseConfig({ PUBLIC_WS_URL: "wss://live.pixel.test" }, ["public"]));
  expect(document.servers).toEqual([{ url: "https://live.pixel.test", description: expect.any(String) }]);
});
