import { Hono } from "hono";
import { getConnInfo, upgradeWebSocket } from "hono/bun";
import { createMiddleware } from "hono/factory";
import { streamSSE } from "hono/streaming";
import { verifyEventToken } from "../../shared/auth/event-token.ts";
import type { Logger } from "../../shared/logger.ts";
import { trustedClientBucket } from "../../shared/net/ip-address.ts";
import { UUID_V7 } from "../../shared/uuid7.ts";
import type { ServerMessage } from "../../shared/ws-messages.ts";
import type { Fanout } from "./fanout.ts";
import type { FeedReader } from "./feed-reader.ts";
import { openFeed } from "./generation-feed.ts";
import type { LiveSlot, LiveSlots } from "./live-slots.ts";
import { SocketRegistry } from "./socket-registry.ts";

export interface LiveRoutesOptions {
  secret: string;
  prefix: string;
  reader: FeedReader;
  fanout: Fanout;
  /** The studio page's origin: the only browser origin admitted. */
  studioOrigin: string;
  /** Caps on live connections per user and per client address, across instances. */
  slots: Pick<LiveSlots, "acquire">;
  /**
   * WS_TRUSTED_CLIENT_IP_HEADER: behind a proxy every peer is the proxy, so the per-address cap
   * counts the client named in this header instead; empty reads no header (anyone can send one).
   */
  trustedClientIpHeader: string;
  /** A socket whose unsent data passes this is closed (1013): a slow reader never holds up others. */
  maxBufferedBytes: number;
  logger: Logger;
  observe?: LiveObserver;
}

export type Transport = "ws" | "sse";
/** What the live tier reports for metrics. */
export interface LiveObserver {
  opened(transport: Transport): void;
  closed(transport: Transport): void;
  sent(transport: Transport): void;
  dropped(reason: "slow_reader" | "protocol" | "feed_error"): void;
  refused(status: number): void;
}

type Env = { Variables: { expiresAt: number; slot: LiveSlot; after?: number } };
/** A comment line this often keeps a quiet SSE stream open through proxies and load balancers. */
export const SSE_KEEPALIVE_MS = 15_000;
/** The close code a WebSocket gets when its token expires: the token is refused from then on (poll GET instead). */
export const TOKEN_EXPIRED_CLOSE = 4401;
/** Milliseconds until the token expires, for a timer (capped so it never overflows). */
const untilExpiry = (expiresAt: number) => Math.min(2 ** 31 - 1, Math.max(0, expiresAt * 1000 - Date.now()));

/** `GET /ws/generations/{id}` (WebSocket) and `GET /events/generations/{id}` (SSE), per docs/api.md. */
export function liveRoutes(options: LiveRoutesOptions) {
  const { logger, observe } = options;
  const registry = new SocketRegistry();
  const app = new Hono<Env>();
  const refuse = (status: 400 | 401 | 403 | 404 | 429 | 503, code: string, message: string) => {
    observe?.refused(status);
    return Response.json({ error: { code, message } }, { status });
  };

  // Set by closeAll: from then on the Redis subscription is going away, and a feed opened on it
  // would fail. Clients are sent to another instance instead, before or right after the upgrade.
  let shuttingDown = false;

  // Everything is checked before the upgrade: a refused client never gets a socket.
  const admit = createMiddleware<Env>(async (c, next) => {
    if (shuttingDown) return refuse(503, "unavailable", "this server is shutting down; connect again");
    const id = c.req.param("id") ?? "";
    const origin = c.req.header("origin");
    if (origin && origin !== options.studioOrigin) return refuse(403, "forbidden", `origin ${origin} is not allowed`);
    if (!UUID_V7.test(id)) return refuse(404, "not_found", `No generation ${id}`);
    const token = c.req.query("token");
    const claims = token ? await verifyEventToken(token, id, options.secret) : null;
    if (!claims) return refuse(401, "unauthorized", "a valid, unexpired token for this generation is required");
    const resume = c.req.query("after") ?? c.req.header("last-event-id");
    if (resume !== undefined && !/^\d{1,9}$/.test(resume))
      return refuse(400, "invalid_request", "after / Last-Event-ID must be a non-negative integer");
    const header = options.trustedClientIpHeader ? c.req.header(options.trustedClientIpHeader) : undefined;
    const address = trustedClientBucket(header, getConnInfo(c).remote.address) ?? "unknown";
    const slot = await options.slots.acquire(claims.userId, address).catch((error) => {
      logger.warn("cannot count live connections; refusing", { error });
      return null;
    });
    if (slot === null) return refuse(503, "unavailable", "live connections cannot be admitted right now");
    if (slot === "user") return refuse(429, "rate_limited", "too many live connections for this user");
    if (slot === "address") return refuse(429, "rate_limited", "too many live connections from this address");
    c.set("expiresAt", claims.expiresAt);
    c.set("slot", slot);
    if (resume !== undefined) c.set("after", Number(resume));
    try {
      await next();
    } finally {
      // A WebSocket request Bun did not upgrade never opens: its slot is freed now, not at lease end.
      if (c.req.path.startsWith("/ws/") && c.res.status !== 200) void slot.release();
    }
  });

  app.get(
    "/ws/generations/:id",
    admit,
    upgradeWebSocket((c) => {
      const id = c.req.param("id") ?? "";
      const after = c.get("after");
      const slot = c.get("slot");
      const expiresAt = c.get("expiresAt");
      let feed: { close(): Promise<void> } | null = null;
      let closed = false;
      let expiry: ReturnType<typeof setTimeout> | undefined;
      return {
        onOpen(_event, ws) {
          const raw = ws.raw as import("bun").ServerWebSocket<unknown>;
          registry.add(raw);
          slot.hold();
          // Counted as opened whatever follows: onClose counts every socket as closed.
          observe?.opened("ws");
          if (shuttingDown) {
            // Admitted just before closeAll: it goes where the others went, with the same code.
            closed = true;
            raw.close(1001, "server shutting down");
            return;
          }
          expiry = setTimeout(() => {
            if (closed) return;
            closed = true;
            raw.close(TOKEN_EXPIRED_CLOSE, "token expired");
          }, untilExpiry(expiresAt));
          const send = (message: ServerMessage) => {
            if (closed) return;
            raw.send(JSON.stringify(message));
            observe?.sent("ws");
            if (raw.getBufferedAmount() > options.maxBufferedBytes) {
              closed = true;
              observe?.dropped("slow_reader");
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
              if (reason === "terminal") raw.close(1000, "done");
              else if (reason === "unknown") raw.close(4404, "unknown generation");
              else raw.close(1011, "events could not be read; reconnect with after=<last seq>");
            },
          })
            .then((f) => {
              feed = f;
              if (closed) void f.close();
            })
            .catch((error) => {
              // closeAll closes the sockets, then the service closes the subscriber under a feed
              // still opening: expected at every shutdown, and the socket already has its 1001.
              if (shuttingDown) {
                logger.debug("live feed not opened: shutting down", { generation: id, error });
                return;
              }
              logger.error("live feed failed", { generation: id, error });
              observe?.dropped("feed_error");
              if (!closed) raw.close(1011, "internal error");
            });
        },
        onMessage(event, ws) {
          // Clients may only ping; anything else is a protocol misuse.
          if (event.data === "ping" || event.data === '{"type":"ping"}') ws.send('{"type":"pong"}');
          else {
            closed = true;
            observe?.dropped("protocol");
            ws.close(1003, "only ping is accepted");
          }
        },
        onClose(_event, ws) {
          closed = true;
          clearTimeout(expiry);
          registry.remove(ws.raw as import("bun").ServerWebSocket<unknown>);
          void slot.release();
          observe?.closed("ws");
          void feed?.close();
        },
      };
    }),
  );

  app.get("/events/generations/:id", admit, (c) => {
    c.header("Access-Control-Allow-Origin", options.studioOrigin);
    c.header("Cache-Control", "no-store");
    const id = c.req.param("id");
    const slot = c.get("slot");
    return streamSSE(c, async (stream) => {
      slot.hold();
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      stream.onAbort(() => done());
      // The stream ends when its token does; the client's reconnect with it is then refused (401).
      const expiry = setTimeout(() => done(), untilExpiry(c.get("expiresAt")));
      try {
        const feed = await openFeed({
          id,
          after: c.get("after"),
          prefix: options.prefix,
          reader: options.reader,
          fanout: options.fanout,
          send: (message) => {
            void stream.writeSSE({ id: String(message.seq), event: message.type, data: JSON.stringify(message) });
            observe?.sent("sse");
          },
          end: () => done(),
        });
        observe?.opened("sse");
        const keepalive = setInterval(() => void stream.write(": keep-alive\n\n"), SSE_KEEPALIVE_MS);
        await finished;
        clearInterval(keepalive);
        observe?.closed("sse");
        await feed.close();
      } finally {
        clearTimeout(expiry);
        await slot.release();
      }
    });
  });

  return {
    app: new Hono().route("/", app),
    sockets: () => registry.size,
    /** Shutdown: every socket closes with 1001 so clients reconnect to another instance. */
    closeAll: () => {
      shuttingDown = true;
      registry.closeAll(1001, "server shutting down");
    },
  };
}
