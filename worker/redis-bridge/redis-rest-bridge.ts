/**
 * An Upstash-compatible Redis REST endpoint over our own Redis, like Upstash's
 * serverless-redis-http: the edge talks to it with @upstash/redis exactly as it would to
 * Upstash. Routes: `POST /` (one command), `POST /pipeline` (not atomic), `POST /multi-exec`
 * (atomic, on a pooled dedicated connection), `GET /` (health, no token).
 *
 * Status codes follow Upstash/SRH: a Redis error is 400 `{"error": "<Redis's message>"}`. A
 * denied command is 403 on `POST /` and refuses a whole `/multi-exec` (a transaction is all or
 * nothing). In a `/pipeline` it becomes that command's own error entry and the rest still run:
 * @upstash/redis auto-pipelines unrelated concurrent calls into one request, so refusing the
 * whole request would fail innocent commands too.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { observeRequests, type RequestObserver } from "../../edge/request-metrics.ts";
import { errorMessage, PipelineError, ProgrammerError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { type Redis, RedisReplyError } from "../redis/redis-client.ts";
import { deniedReason } from "./command-policy.ts";
import { createConnectionPool } from "./connection-pool.ts";
import { type Command, type Entry, encodeEntry, encodeResult, parseCommand, parseCommands } from "./rest-wire.ts";
import { runTransaction } from "./run-transaction.ts";
import { createScriptFlagTranslator, type PreparedCommand } from "./upstash-script-flags.ts";

export interface RedisRestBridgeOptions {
  /** The shared connection every single command and pipeline goes through. */
  redis: Redis;
  /** Opens one dedicated connection for the transaction pool. */
  openTransactionConnection: () => Promise<Redis>;
  token: string;
  logger: Logger;
  maxBodyBytes?: number;
  maxTransactionConnections?: number;
  /** Per-request metrics (the process's own listener serves them). */
  observe?: RequestObserver;
}

export interface RedisRestBridge {
  app: Hono;
  /** Closes the transaction connections; the shared `redis` belongs to the caller. */
  close(): void;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

export function createRedisRestBridge(options: RedisRestBridgeOptions): RedisRestBridge {
  const { redis, logger } = options;
  if (!options.token) throw new ProgrammerError("the Redis REST bridge needs a token");
  const expected = sha256(options.token);
  const pool = createConnectionPool(options.openTransactionConnection, options.maxTransactionConnections ?? 4);
  const app = new Hono();
  if (options.observe) app.use(observeRequests(options.observe));

  const tokenMatches = (header: string | undefined) => {
    const presented = /^Bearer (.+)$/.exec(header ?? "")?.[1];
    // Comparing digests keeps the time independent of where the tokens differ, and of their lengths.
    return presented !== undefined && timingSafeEqual(sha256(presented), expected);
  };

  const refusal = (command: Command) => {
    const reason = deniedReason(command);
    if (reason) logger.warn("redis bridge refused a command", { command: command[0].slice(0, 64) });
    return reason;
  };

  app.get("/", async (c) => {
    try {
      await redis.send("PING", []);
      return c.text("Redis REST bridge: OK");
    } catch (error) {
      return c.text(`Redis REST bridge: ${errorMessage(error)}`, 503);
    }
  });

  app.use("*", async (c, next) => {
    if (!tokenMatches(c.req.header("authorization"))) return c.json({ error: "Unauthorized" }, 401);
    if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
      return c.json({ error: "Content-Type must be application/json" }, 400);
    }
    await next();
  });

  const maxSize = options.maxBodyBytes ?? 1024 * 1024;
  app.use("*", bodyLimit({ maxSize, onError: (c) => c.json({ error: `Body larger than ${maxSize} bytes` }, 413) }));

  const readBody = async (request: Request): Promise<{ body: unknown } | { error: string }> => {
    try {
      return { body: JSON.parse(await request.text()) };
    } catch {
      return { error: "ERR the body is not valid JSON" };
    }
  };
  const wantsBase64 = (header: string | undefined) => header?.toLowerCase() === "base64";

  const scripts = createScriptFlagTranslator();
  /** The client's view of a reply: SCRIPT LOAD answers the SHA1 the client computed, not ours. */
  const finish = (prepared: PreparedCommand, reply: unknown) =>
    prepared.reply && !(reply instanceof RedisReplyError) ? prepared.reply(reply) : reply;
  const send = async (prepared: PreparedCommand) => {
    const [name, ...args] = prepared.command;
    return finish(prepared, await redis.send(name, args));
  };

  app.post("/", async (c) => {
    const read = await readBody(c.req.raw);
    const command = "body" in read ? parseCommand(read.body) : read.error;
    if (typeof command === "string") return c.json({ error: command }, 400);
    const denied = refusal(command);
    if (denied) return c.json({ error: denied }, 403);
    const reply = await send(scripts.prepare(command));
    return c.json({ result: encodeResult(reply, wantsBase64(c.req.header("upstash-encoding"))) });
  });

  app.post("/pipeline", async (c) => {
    const read = await readBody(c.req.raw);
    const commands = "body" in read ? parseCommands(read.body) : read.error;
    if (typeof commands === "string") return c.json({ error: commands }, 400);
    const base64 = wantsBase64(c.req.header("upstash-encoding"));
    const entries = await Promise.all(
      commands.map((command): Entry | Promise<Entry> => {
        const denied = refusal(command);
        if (denied) return { error: denied };
        // Sent in order on the shared connection; a failed connection fails the request (503).
        return send(scripts.prepare(command)).then(
          (reply) => encodeEntry(reply, base64),
          (error) => (error instanceof RedisReplyError ? encodeEntry(error, base64) : Promise.reject(error)),
        );
      }),
    );
    return c.json(entries);
  });

  app.post("/multi-exec", async (c) => {
    const read = await readBody(c.req.raw);
    const commands = "body" in read ? parseCommands(read.body) : read.error;
    if (typeof commands === "string") return c.json({ error: commands }, 400);
    const denied = commands.map(refusal).find((reason) => reason !== null);
    if (denied) return c.json({ error: denied }, 403);
    const prepared = commands.map(scripts.prepare);
    const sent = prepared.map((p) => p.command);
    const outcome = await pool.use((connection) => runTransaction(connection, sent));
    if ("discarded" in outcome) return c.json({ error: outcome.discarded }, 400);
    const base64 = wantsBase64(c.req.header("upstash-encoding"));
    return c.json(
      outcome.executed.map((reply, i) => encodeEntry(finish(prepared[i] as PreparedCommand, reply), base64)),
    );
  });

  app.notFound((c) => c.json({ error: "Not found" }, 404));

  app.onError((error, c) => {
    if (error instanceof RedisReplyError) return c.json({ error: error.message }, 400);
    if (error instanceof PipelineError && ["redis_unavailable", "redis_auth_failed"].includes(error.code)) {
      logger.warn("redis bridge cannot reach Redis", { error });
      return c.json({ error: error.message }, 503);
    }
    logger.error("redis bridge request failed", { error });
    return c.json({ error: "Internal error" }, 500);
  });

  return { app, close: () => pool.close() };
}
