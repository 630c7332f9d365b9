/**
 * The one module that imports a Redis client (Bun's built-in `RedisClient`). Everything else
 * takes the small `Redis` / `RedisSubscriber` interfaces built here, so swapping the client is
 * one file.
 *
 * Replies have RESP2 shapes (flat arrays for HGETALL and WITHSCORES, scores as strings), the
 * shapes Upstash's REST API returns: Bun speaks RESP3, whose maps and nested score pairs cannot be
 * turned back into RESP2 without knowing every command, so each command connection sends
 * `HELLO 2` before anything else. Bun re-sends `HELLO 3` when it reconnects on its own, so its
 * auto-reconnect is off and this module reconnects instead.
 */
import { RedisClient } from "bun";
import { errorMessage, PipelineError, ProgrammerError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";

export interface Redis {
  /** Error replies reject with `RedisReplyError`; error replies nested in arrays (EXEC, Lua) are `RedisReplyError` values. */
  send(command: string, args: readonly string[]): Promise<unknown>;
  close(): void;
}

export type MessageListener = (message: string, channel: string) => void;

export interface RedisSubscriber {
  /** One listener per channel; messages sent while the connection is down are lost (pub/sub is at most once). */
  subscribe(channel: string, onMessage: MessageListener): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): void;
}

export interface RedisConnectionOptions {
  /** Shown in CLIENT LIST, so operators (and tests) can tell connections apart. */
  name?: string;
  connectTimeoutMs?: number;
  /**
   * A command not answered within this many ms fails (`redis_unavailable`, retryable) and its
   * connection is replaced: a Redis gone without closing the socket would otherwise hold every
   * command forever. Default 5000; no command of ours blocks on the server.
   */
  commandTimeoutMs?: number;
}

export interface RedisSubscriberOptions extends RedisConnectionOptions {
  logger?: Logger;
  /** Called after a dropped connection came back and every channel was subscribed again. */
  onResubscribed?: (channels: string[]) => void;
  reconnectBaseMs?: number;
  /**
   * How often the connection is PINGed, ms; one not answered within the same time is taken for
   * dead (a peer gone without closing, a half-open socket) and replaced. Default 2000.
   */
  heartbeatMs?: number;
}

/**
 * Error replies that say the server cannot take the command right now (loading, a busy script,
 * out of memory, a failed save refusing writes, failover): the same command can pass later.
 * Any other error reply is about the command itself and fails the same way every time.
 */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|OOM|MISCONF|NOREPLICAS|CLUSTERDOWN)\b/;

/** An error reply from Redis itself; `message` is Redis's text, unchanged. */
export class RedisReplyError extends PipelineError {
  constructor(message: string) {
    super("redis_error", message, { retryable: TRANSIENT_REPLY.test(message) });
    this.name = "RedisReplyError";
  }
}

const where = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 6379}`;
};

function translate(error: unknown, url: string): PipelineError {
  if (error instanceof PipelineError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === "ERR_REDIS_SERVER_ERROR") return new RedisReplyError(errorMessage(error));
  if (code === "ERR_REDIS_AUTHENTICATION_FAILED") {
    return new PipelineError("redis_auth_failed", `Redis at ${where(url)} refused our credentials`, { cause: error });
  }
  return new PipelineError("redis_unavailable", `Redis at ${where(url)} is unavailable: ${errorMessage(error)}`, {
    retryable: true,
    cause: error,
  });
}

function nestedErrors(reply: unknown): unknown {
  if (reply instanceof Error) return new RedisReplyError(reply.message);
  return Array.isArray(reply) ? reply.map(nestedErrors) : reply;
}

const connectOptions = (options: RedisConnectionOptions) => ({
  autoReconnect: false,
  enableOfflineQueue: false,
  connectionTimeout: options.connectTimeoutMs ?? 5000,
});

/**
 * Bun reports refused credentials in the URL as a closed connection, just like a server that is
 * not there. Whether the server answers a login-less connection tells the two apart.
 */
async function refusedCredentials(url: string, error: unknown, options: RedisConnectionOptions): Promise<boolean> {
  const parsed = new URL(url);
  if ((!parsed.username && !parsed.password) || (error as { code?: unknown }).code !== "ERR_REDIS_CONNECTION_CLOSED")
    return false;
  parsed.username = "";
  parsed.password = "";
  const probe = new RedisClient(parsed.toString(), connectOptions(options));
  try {
    await probe.connect();
    return true;
  } catch (probeError) {
    // NOAUTH from a server that wants a login is an answer too.
    return (probeError as { code?: unknown }).code === "ERR_REDIS_SERVER_ERROR";
  } finally {
    probe.close();
  }
}

async function openClient(url: string, options: RedisConnectionOptions, resp2: boolean): Promise<RedisClient> {
  const client = new RedisClient(url, connectOptions(options));
  try {
    await client.connect();
    if (resp2) await client.send("HELLO", ["2"]);
    if (options.name) await client.send("CLIENT", ["SETNAME", options.name]);
    return client;
  } catch (error) {
    client.close();
    if (await refusedCredentials(url, error, options))
      throw new PipelineError("redis_auth_failed", `Redis at ${where(url)} refused our credentials`, { cause: error });
    throw translate(error, url);
  }
}

class CommandConnection implements Redis {
  private current: Promise<RedisClient> | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly options: RedisConnectionOptions,
  ) {}

  /** Every caller waiting during a reconnect shares one attempt; a failed attempt is not cached. */
  connection(): Promise<RedisClient> {
    if (this.closed) return Promise.reject(new PipelineError("redis_unavailable", "Redis connection is closed"));
    if (!this.current) {
      const attempt = openClient(this.url, this.options, true).then((client) => {
        client.onclose = () => {
          if (this.current === attempt) this.current = null;
        };
        if (this.closed) client.close();
        return client;
      });
      this.current = attempt;
      attempt.catch(() => {
        if (this.current === attempt) this.current = null;
      });
    }
    return this.current;
  }

  // Commands reach Redis in call order (callers pipeline on that: a worker's live applies are
  // sent without waiting for each other), so nothing may be awaited here before client.send but
  // the one shared connection attempt.
  async send(command: string, args: readonly string[]): Promise<unknown> {
    const attempt = this.connection();
    const client = await attempt;
    const timeoutMs = this.options.commandTimeoutMs ?? 5000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Closing fails whatever else waits on this connection too, and the next call reconnects.
        if (this.current === attempt) this.current = null;
        client.close();
        reject(
          new PipelineError("redis_unavailable", `Redis at ${where(this.url)} did not answer within ${timeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, timeoutMs);
    });
    try {
      return nestedErrors(await Promise.race([client.send(command, args as string[]), silent]));
    } catch (error) {
      throw translate(error, this.url);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.then((client) => client.close()).catch(() => {});
    this.current = null;
  }
}

/** A connected, auto-pipelined command connection; rejects with `redis_unavailable` when Redis cannot be reached. */
export async function createRedis(url: string, options: RedisConnectionOptions = {}): Promise<Redis> {
  const redis = new CommandConnection(url, options);
  await redis.connection();
  return redis;
}

class Subscriber implements RedisSubscriber {
  private readonly listeners = new Map<string, MessageListener>();
  private client: RedisClient | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private failures = 0;

  constructor(
    private readonly url: string,
    private readonly options: RedisSubscriberOptions,
  ) {}

  private readonly dispatch: MessageListener = (message, channel) => {
    try {
      this.listeners.get(channel)?.(message, channel);
    } catch (error) {
      this.options.logger?.error("redis subscriber listener failed", { channel, error });
    }
  };

  /** Subscription changes and reconnects run one at a time, so no channel is subscribed twice. */
  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Opens a connection when there is none, subscribing every known channel on it. */
  async ready(): Promise<RedisClient> {
    if (this.closed) throw new PipelineError("redis_unavailable", "Redis subscriber is closed");
    if (this.client) return this.client;
    const client = await openClient(this.url, this.options, false);
    try {
      if (this.listeners.size > 0) await client.subscribe([...this.listeners.keys()], this.dispatch);
    } catch (error) {
      client.close();
      throw translate(error, this.url);
    }
    client.onclose = () => this.dropped(client);
    this.client = client;
    if (this.closed) client.close();
    else this.watch(client);
    return client;
  }

  /**
   * Pub/sub only ever reads, so a Redis that vanished without closing the socket (a network cut,
   * a frozen host) would leave it silent forever: PING finds that within two heartbeats.
   */
  private watch(client: RedisClient): void {
    const everyMs = this.options.heartbeatMs ?? 2000;
    clearInterval(this.heartbeat);
    let waiting = false;
    this.heartbeat = setInterval(() => {
      if (this.client !== client) return;
      if (waiting) {
        this.options.logger?.warn("redis subscriber connection did not answer PING; replacing it");
        this.dropped(client);
        client.close();
        return;
      }
      waiting = true;
      client.send("PING", []).then(
        () => {
          waiting = false;
        },
        () => {
          this.dropped(client);
          client.close();
        },
      );
    }, everyMs);
    this.heartbeat.unref?.();
  }

  private dropped(client: RedisClient): void {
    if (this.client !== client || this.closed) return;
    clearInterval(this.heartbeat);
    this.client = null;
    this.options.logger?.warn("redis subscriber connection lost; reconnecting", { channels: this.listeners.size });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const base = this.options.reconnectBaseMs ?? 100;
    const delay = Math.min(5000, base * 2 ** this.failures);
    this.reconnectTimer = setTimeout(() => {
      this.serial(() => this.ready()).then(
        () => {
          this.failures = 0;
          this.options.onResubscribed?.([...this.listeners.keys()]);
        },
        (error) => {
          if (this.closed) return;
          this.failures = Math.min(this.failures + 1, 10);
          this.options.logger?.warn("redis subscriber reconnect failed", { error });
          this.scheduleReconnect();
        },
      );
    }, delay);
  }

  subscribe(channel: string, onMessage: MessageListener): Promise<void> {
    return this.serial(async () => {
      if (this.listeners.has(channel)) throw new ProgrammerError(`already subscribed to ${channel}`);
      const client = await this.ready();
      this.listeners.set(channel, onMessage);
      try {
        await client.subscribe(channel, this.dispatch);
      } catch (error) {
        this.listeners.delete(channel);
        throw translate(error, this.url);
      }
    });
  }

  unsubscribe(channel: string): Promise<void> {
    return this.serial(async () => {
      if (!this.listeners.delete(channel) || !this.client) return;
      // A connection that drops now comes back without this channel, so a failure here is harmless.
      await this.client.unsubscribe(channel).catch(() => {});
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeat);
    this.client?.close();
    this.client = null;
  }
}

/** A dedicated pub/sub connection for many channels, re-subscribing them after a dropped connection. */
export async function createRedisSubscriber(
  url: string,
  options: RedisSubscriberOptions = {},
): Promise<RedisSubscriber> {
  const subscriber = new Subscriber(url, options);
  await subscriber.ready();
  return subscriber;
}
