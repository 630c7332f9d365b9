/**
 * The bench's live server process: the same service as `worker/ws/main.ts` (createLiveService
 * with WEBSOCKET_OPTIONS, configured from the environment), bound to 127.0.0.1 because the
 * benchmark stays on loopback while main.ts listens on every interface.
 */
import { Hono } from "hono";
import { websocket } from "hono/bun";
import { createRedis } from "../worker/redis/redis-client.ts";
import { configOrExit, loggerFor } from "../worker/runtime/entry.ts";
import { createLiveService, WEBSOCKET_OPTIONS } from "../worker/ws/live-service.ts";

const config = configOrExit(process.env, ["worker", "redis", "keys", "auth", "public"]);
const logger = loggerFor(config, "bench-live-server");
const redis = await createRedis(config.redis.url, { name: `bench-live-${process.pid}` });
const live = await createLiveService(config, redis, logger);
const app = new Hono();
app.get("/healthz", (c) => c.json({ status: "ok", sockets: live.sockets() }));
app.route("/", live.routes);
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: config.worker.port,
  fetch: app.fetch,
  websocket: { ...websocket, ...WEBSOCKET_OPTIONS },
});

process.on("SIGTERM", () => {
  live.close();
  void server.stop().then(() => {
    redis.close();
    process.exit(0);
  });
});
