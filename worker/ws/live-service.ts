import type { Server } from "bun";
import { type BunWebSocketData, websocket } from "hono/bun";
import type { Config } from "../../shared/config/parse-config.ts";
import type { Logger } from "../../shared/logger.ts";
import { WORKER_HTTP_IDLE_TIMEOUT_S } from "../http/internal-server.ts";
import { createRedisSubscriber, type Redis } from "../redis/redis-client.ts";
import { createFanout, type Fanout } from "./fanout.ts";
import { createFeedReader } from "./feed-reader.ts";
import { createLiveSlots } from "./live-slots.ts";
import { type LiveObserver, liveRoutes } from "./ws-routes.ts";

/** WebSocket and SSE endpoints with their Redis fan-out: served by every worker, or alone. */
export async function createLiveService(
  config: Config<"worker" | "redis" | "keys" | "auth" | "public">,
  redis: Redis,
  logger: Logger,
  observe?: LiveObserver,
) {
  let fanout: Fanout | undefined;
  const subscriber = await createRedisSubscriber(config.redis.url, {
    name: `live-${process.pid}`,
    logger,
    onResubscribed: (channels) => fanout?.resubscribed(channels),
  });
  fanout = createFanout(subscriber, logger);
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
    reader: createFeedReader(redis, config.keys.redisPrefix),
    fanout,
    studioOrigin: config.public.studioOrigin,
    slots,
    trustedClientIpHeader: config.worker.trustedClientIpHeader,
    maxBufferedBytes: config.worker.maxBufferedBytes,
    logger,
    observe,
  });
  return {
    routes: live.app,
    sockets: live.sockets,
    close() {
      live.closeAll();
      slots.close();
      subscriber.close();
    },
  };
}

/**
 * The largest frame a client may send: clients only ping (`ping` or `{"type":"ping"}`), so 1 KiB
 * is plenty, and Bun closes a connection sending more (1009) instead of buffering up to 16 MiB.
 */
export const MAX_CLIENT_FRAME_BYTES = 1024;

/**
 * Bun's WebSocket settings: a socket silent for `idleTimeout` seconds is pinged (and closed if
 * the ping goes unanswered), which keeps idle sockets alive through proxies and finds dead ones.
 */
export const WEBSOCKET_OPTIONS = {
  idleTimeout: 60,
  sendPings: true,
  perMessageDeflate: false,
  maxPayloadLength: MAX_CLIENT_FRAME_BYTES,
} as const;

/**
 * Serves a Hono app that may upgrade to WebSockets on WS_PORT. Instances on one host share the
 * port (SO_REUSEPORT), so `kafka:consumer` can run several without a proxy.
 */
export function serveWithWebSockets(
  fetch: (request: Request, server: Server<BunWebSocketData>) => Response | Promise<Response>,
  listen: { host: string; port: number },
) {
  return Bun.serve({
    hostname: listen.host,
    port: listen.port,
    reusePort: true,
    // HTTP and SSE: Bun's 10 s default would close an SSE stream between keep-alives.
    idleTimeout: WORKER_HTTP_IDLE_TIMEOUT_S,
    fetch,
    websocket: { ...websocket, ...WEBSOCKET_OPTIONS },
  });
}
