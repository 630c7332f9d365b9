/** `npm run kafka:websocket`: the WebSocket/SSE server alone (no generation), on WS_PORT. */

import { Hono } from "hono";
import { createRedis } from "../redis/redis-client.ts";
import { liveMetrics } from "../runtime/component-metrics.ts";
import { configOrExit, loggerFor } from "../runtime/entry.ts";
import { beatToSupervisor } from "../runtime/liveness.ts";
import { startProcessMetrics } from "../runtime/metrics-server.ts";
import { createLiveService, serveWithWebSockets } from "./live-service.ts";

const config = configOrExit(process.env, ["worker", "redis", "keys", "auth", "public", "listen", "metrics"]);
const logger = loggerFor(config, "websocket");
const metrics = startProcessMetrics(config.metrics, "websocket", logger);
const redis = await createRedis(config.redis.url, { name: `websocket-${process.pid}` });
const live = await createLiveService(config, redis, logger, liveMetrics(metrics.metrics));
const app = new Hono();
app.get("/healthz", (c) => c.json({ status: "ok", sockets: live.sockets() }));
app.route("/", live.routes);
const server = serveWithWebSockets(app.fetch, { host: config.listen.host, port: config.worker.port });
logger.info("websocket server listening", { port: server.port });
beatToSupervisor();

let stopping: Promise<void> | null = null;
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    stopping ??= (async () => {
      live.close();
      await server.stop();
      redis.close();
      metrics.stop();
    })();
    void stopping.then(() => process.exit(0));
  });
