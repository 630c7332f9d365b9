import { Hono } from "hono";
import { upgradeWebSocket } from "hono/bun";
import { createMiddleware } from "hono/factory";
import { streamSSE } from "hono/streaming";
import { verifyEventToken } from "../../shared/auth/event-token.ts";
import type { Logger } from "../../shared/logger.ts";
import { UUID_V7 } from "../../shared/uuid7.ts";
import type { ServerMessage } from "../../shared/ws-messages.ts";
import type { Fanout } from "./fanout.ts";
import type { FeedReader } from "./feed-reader.ts";
import { openFeed } from "./generation-feed.ts";
import { SocketRegistry } from "./socket-registry.ts";

export interface LiveRoutesOptions {
  secret: string;
  prefix: string;
  reader: FeedReader;
  fanout: Fanout;
  /** The studio page's origin: the only browser origin admitted. */
  studioOrigin: string;
  maxSocketsPerUser: number;
  /** A socket whose unsent data passes this is closed (1013): a slow reader never holds up others. */
  maxBufferedBytes: number;
  logger: Logger;
}

type Env = { Variables: { userId: string; after?: number } };
const SSE_KEEPALIVE_MS = 15_000;

/** `GET /ws/generations/{id}` (WebSocket) and `GET /events/generations/{id}` (SSE), per docs/api.md. */
export function liveRoutes(options: LiveRoutesOptions) {
  const { logger } = options;
  const registry = new SocketRegistry(options.maxSocketsPerUser);
  const app = new Hono<Env>();
  const refuse = (status: 400 | 401 | 403 | 404 | 429, code: string, message: string) =>
    Response.json({ error: { code, message } }, { status });

  // Everything is checked before the upgrade: a refused client never gets a socket.
  const admit = createMiddleware<Env>(async (c, next) => {
    const id = c.req.param("id") ?? "";
    const origin = c.req.header("origin");
    if (origin && origin !== options.studioOrigin) return refuse(403, "forbidden", `origin ${origin} is not allowed`);
    if (!UUID_V7.test(id)) return refuse(404, "not_found", `No generation ${id}`);
    const token = c.req.query("token");
    const userId = token ? await verifyEventToken(token, id, options.secret) : null;
    if (!userId) return refuse(401, "unauthorized", "a valid, unexpired token for this generation is required");
    const resume = c.req.query("after") ?? c.req.header("last-event-id");
    if (resume !== undefined && !/^\d{1,9}$/.test(resume))
      return refuse(400, "invalid_request", "after / Last-Event-ID must be a non-negative integer");
    if (!registry.hasRoom(userId)) return refuse(429, "rate_limited", "too many live connections for this user");
    c.set("userId", userId);
    if (resume !== undefined) c.set("after", Number(resume));
    await next();
  });

  app.get(
    "/ws/generations/:id",
    admit,
    upgradeWebSocket((c) => {
      const id = c.req.param("id") ?? "";
      const userId = c.get("userId");
      const after = c.get("after");
      let feed: { close(): Promise<void> } | null = null;
      let closed = false;
      return {
        onOpen(_event, ws) {
          const raw = ws.raw as import("bun").ServerWebSocket<unknown>;
          registry.add(userId, raw);
          const send = (message: ServerMessage) => {
            if (closed) return;
            raw.send(JSON.stringify(message));
            if (raw.getBufferedAmount() > options.maxBufferedBytes) {
              closed = true;
              raw.close(1013, "client too slow; reconnect with after=<last seq>");
            }
          };
          void openFeed({
            id,
            after,
            prefix: options.prefix,
            reader: options.reader,
            fanout: options.fanout,
            send,
            end: (reason) => {
              if (closed) return;
              closed = true;
              raw.close(reason === "terminal" ? 1000 : 4404, reason === "terminal" ? "done" : "unknown generation");
            },
          })
            .then((f) => {
              feed = f;
              if (closed) void f.close();
            })
            .catch((error) => {
              logger.error("live feed failed", { generation: id, error });
              if (!closed) raw.close(1011, "internal error");
            });
        },
        onMessage(event, ws) {
          // Clients may only ping; anything else is a protocol misuse.
          if (event.data === "ping" || event.data === '{"type":"ping"}') ws.send('{"type":"pong"}');
          else {
            closed = true;
            ws.close(1003, "only ping is accepted");
          }
        },
        onClose(_event, ws) {
          closed = true;
          registry.remove(userId, ws.raw as import("bun").ServerWebSocket<unknown>);
          void feed?.close();
        },
      };
    }),
  );

  app.get("/events/generations/:id", admit, (c) => {
    c.header("Access-Control-Allow-Origin", options.studioOrigin);
    c.header("Cache-Control", "no-store");
    const id = c.req.param("id");
    return streamSSE(c, async (stream) => {
      let feed: { close(): Promise<void> } | null = null;
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      stream.onAbort(() => done());
      feed = await openFeed({
        id,
        after: c.get("after"),
        prefix: options.prefix,
        reader: options.reader,
        fanout: options.fanout,
        send: (message) => {
          void stream.writeSSE({ id: String(message.seq), event: message.type, data: JSON.stringify(message) });
        },
        end: () => done(),
      });
      const keepalive = setInterval(() => void stream.write(": keep-alive\n\n"), SSE_KEEPALIVE_MS);
      await finished;
      clearInterval(keepalive);
      await feed.close();
    });
  });

  return {
    app: new Hono().route("/", app),
    sockets: () => registry.size,
    /** Shutdown: every socket closes with 1001 so clients reconnect to another instance. */
    closeAll: () => registry.closeAll(1001, "server shutting down"),
  };
}
