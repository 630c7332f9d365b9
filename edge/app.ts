import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createAbuseLimits } from "./abuse-limits.ts";
import { ApiError, errorResponse } from "./api-error.ts";
import { type AuthEnv, authenticate, sessionCookie } from "./auth.ts";
import { clientAddress } from "./client-ip.ts";
import { rejectCrossSiteForms } from "./csrf.ts";
import type { EdgeDeps } from "./edge-deps.ts";
import { cachedProbe, HEALTH_PROBE_TTL_MS } from "./health-probe.ts";
import { observeRequests } from "./request-metrics.ts";
import { generationRoutes } from "./routes/generations.ts";
import { openApiRoute } from "./routes/openapi.ts";
import { webhookSecretRoutes } from "./routes/webhook-secret.ts";
import { studioPage } from "./studio/create.tsx";
import { MAX_BODY_BYTES } from "./submit-body.ts";
import { isRedisFailure } from "./upstash-clients.ts";

/** The edge, free of any runtime: each runtime's entry point builds `deps` and serves `fetch`. */
export function createEdgeApp(deps: EdgeDeps) {
  const app = new Hono<AuthEnv>();
  if (deps.observe) app.use(observeRequests(deps.observe));
  const limits = createAbuseLimits(deps.limiters, deps.logger);
  const cookie = sessionCookie(deps.config.public.studioOrigin);

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      const level = error.code === "internal" || error.code === "unavailable" ? "warn" : "debug";
      deps.logger[level]("request refused", {
        code: error.code,
        detail: error.message,
        details: error.details,
        path: c.req.path,
      });
      return errorResponse(c, error);
    }
    // A dependency that cannot answer (Redis or its REST endpoint) anywhere in a route is an
    // outage, never a 500: the client is told to come back, as with every other outage.
    if (isRedisFailure(error)) {
      deps.logger.warn("request refused: Redis could not answer", { error, path: c.req.path });
      return errorResponse(c, new ApiError("unavailable", "Redis unavailable", undefined, { "Retry-After": "2" }));
    }
    deps.logger.error("unhandled error", { error, path: c.req.path });
    return errorResponse(c, new ApiError("internal", "Internal error"));
  });
  app.notFound((c) => errorResponse(c, new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`)));

  const probeDependencies = cachedProbe(
    () => Promise.all([deps.producer.healthy(), deps.store.ping()]),
    HEALTH_PROBE_TTL_MS,
  );
  app.get("/healthz", async (c) => {
    const [kafkaRest, redis] = await probeDependencies();
    if (kafkaRest && redis) return c.json({ status: "ok" });
    const failing = [...(kafkaRest ? [] : ["kafka-rest"]), ...(redis ? [] : ["redis"])];
    return c.json(
      { status: "unavailable", failing, error: { code: "unavailable", message: `Unreachable: ${failing.join(", ")}` } },
      503,
    );
  });

  app.use("*", async (c, next) => {
    c.set("clientIp", clientAddress(c, deps.config.edge.trustedClientIpHeader));
    await next();
  });
  app.route("/", studioPage(deps, { limits, cookie }));
  app.route("/", openApiRoute(deps));

  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        errorResponse(c, new ApiError("payload_too_large", `Bodies are limited to ${MAX_BODY_BYTES} bytes`)),
    }),
  );
  app.use("/api/*", authenticate(deps.config.auth.jwtSecret, cookie));
  app.use("/api/*", rejectCrossSiteForms(deps.config.public.studioOrigin));
  app.route("/api/generations", generationRoutes(deps, limits));
  app.route("/api/webhook-secret", webhookSecretRoutes(deps, limits));
  return app;
}
export type EdgeApp = ReturnType<typeof createEdgeApp>;
