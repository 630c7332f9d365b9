/**
 * The Kafka REST gateway the edge produces through: the produce part of the Upstash Kafka REST
 * API (so `@upstash/kafka` is its client), limited to the request topic, validating every event
 * before writing any, acknowledged only once Kafka's in-sync replicas have it.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { observeRequests, type RequestObserver } from "../../edge/request-metrics.ts";
import { PipelineError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import type { BatchingProducer } from "./batching-producer.ts";
import { parseProduceRequest } from "./produce-request.ts";

export interface KafkaRestGatewayOptions {
  producer: BatchingProducer;
  username: string;
  password: string;
  /** Topics that may be produced to; everything else answers 403. */
  allowedTopics: readonly string[];
  logger: Logger;
  maxBodyBytes?: number;
  /** Per-request metrics (the process's own listener serves them). */
  observe?: RequestObserver;
}

/** Upstash's error shape: the status is repeated in the body. */
const failure = (status: ContentfulStatusCode, error: string, headers?: Record<string, string>) =>
  Response.json({ error, status }, { status, headers });

const isJson = (contentType: string | undefined) =>
  contentType?.split(";")[0]?.trim().toLowerCase() === "application/json";

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/**
 * HTTP Basic auth against the one configured credential. Hono's `basicAuth` hashes username and
 * password with the asynchronous Web Crypto digest on every request (a quarter of this process's
 * JavaScript under load); comparing the SHA-256 of the presented credentials with the digest
 * computed once is as independent of where (and how long) they differ, at a fraction of the cost.
 */
function basicAuthOf(username: string, password: string): MiddlewareHandler {
  const expected = sha256(btoa(String.fromCharCode(...new TextEncoder().encode(`${username}:${password}`))));
  return async (c, next) => {
    const presented = /^ *basic +([A-Za-z0-9+/]+=*) *$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (presented !== undefined && timingSafeEqual(sha256(presented), expected)) return next();
    return failure(401, "missing or wrong credentials", { "WWW-Authenticate": 'Basic realm="kafka-rest"' });
  };
}

export function createKafkaRestGateway(options: KafkaRestGatewayOptions): Hono {
  const { producer, logger } = options;
  const allowedTopics = new Set(options.allowedTopics);
  const app = new Hono();
  if (options.observe) app.use(observeRequests(options.observe));

  const health = () =>
    producer.connected ? Response.json({ status: "ok" }) : failure(503, "the Kafka producer is not connected");
  app.get("/", health);
  app.get("/healthz", health);
  // The name every role's readiness probe has (containers, load balancers).
  app.get("/readyz", health);

  const guard = [
    basicAuthOf(options.username, options.password),
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1024 * 1024,
      onError: () => failure(413, `the request body is larger than ${options.maxBodyBytes ?? 1024 * 1024} bytes`),
    }),
  ] as const;

  const produce = async (request: Request, pathTopic: string | undefined): Promise<Response> => {
    if (pathTopic !== undefined && !allowedTopics.has(pathTopic))
      return failure(403, `producing to topic "${pathTopic}" is not allowed`);
    if (!isJson(request.headers.get("content-type") ?? undefined))
      return failure(415, "the request body must be application/json");
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch {
      return failure(400, "the request body is not valid JSON");
    }
    const parsed = parseProduceRequest(body, { pathTopic, allowedTopics });
    if (!parsed.ok) return failure(parsed.status, parsed.error);
    try {
      const produced = await producer.sendRecords(parsed.records);
      // @upstash/kafka's produce() reads element 0 of what `POST /produce` answers: always a list there.
      return Response.json(pathTopic !== undefined && parsed.single ? produced[0] : produced);
    } catch (error) {
      return producerFailure(error);
    }
  };

  const producerFailure = (error: unknown): Response => {
    if (error instanceof PipelineError && error.code === "invalid_partition") return failure(400, error.message);
    if (error instanceof PipelineError && error.retryable) {
      logger.warn("produce failed; answering 503", { error });
      return failure(503, "Kafka is unavailable; retry later", { "Retry-After": "1" });
    }
    logger.error("produce failed", { error });
    return failure(500, "Kafka rejected the write");
  };

  app.post("/produce", ...guard, (c) => produce(c.req.raw, undefined));
  app.post("/produce/:topic", ...guard, (c) => produce(c.req.raw, c.req.param("topic")));

  app.notFound((c) => failure(404, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((error, c) => {
    logger.error("gateway error", { error, path: c.req.path });
    return failure(500, "internal error");
  });
  return app;
}
