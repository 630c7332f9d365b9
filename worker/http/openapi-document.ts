/**
 * The workers' OpenAPI 3.1 document (live WebSocket/SSE, images, probes, the synchronous
 * fallback), generated like the edge's from the schemas the code runs; written to
 * docs/openapi.worker.json by `npm run openapi`.
 */
import { workerLiveness, workerReadiness } from "../../shared/api-bodies.ts";
import { EVENT_TOKEN_TTL_SECONDS } from "../../shared/auth/event-token.ts";
import type { Config } from "../../shared/config/parse-config.ts";
import { RequestEvent } from "../../shared/events/events.ts";
import { generationRecord, historyLogs, historyPage } from "../../shared/history.ts";
import { CONTENT_TYPES, ENDINGS } from "../../shared/job-states.ts";
import { createOpenApiBuilder, type OpenApiDocument, parameter } from "../../shared/openapi/openapi-builder.ts";
import { described, integer, named, string } from "../../shared/schema/schema.ts";
import { generationId, generationSnapshot } from "../../shared/snapshot.ts";
import { serverMessage } from "../../shared/ws-messages.ts";
import { IMAGE_KEY } from "../images/image-key.ts";

/** 1.1.0: the internal history and deletion routes; `preview` and `expired` messages; thumbnails. */
const VERSION = "1.1.0";

export function workerOpenApiDocument(config: Config<"public">): OpenApiDocument {
  const { schema, json, errors, document } = createOpenApiBuilder();
  const live = {
    parameters: [
      parameter("id", "path", schema(generationId), "The generation's id."),
      parameter(
        "token",
        "query",
        { type: "string" },
        `The token in the submit's \`links.events\`: bound to the user and this generation, valid ${EVENT_TOKEN_TTL_SECONDS / 60} minutes.`,
        true,
      ),
      parameter(
        "after",
        "query",
        { type: "string", pattern: "^\\d{1,9}$" },
        "Resume: replay every event after this `seq` instead of a snapshot (a snapshot comes when the log " +
          "no longer holds them all).",
      ),
      parameter("Last-Event-ID", "header", { type: "string", pattern: "^\\d{1,9}$" }, "Like `after` (SSE resume)."),
      parameter("Origin", "header", { type: "string" }, "Browsers: must be STUDIO_ORIGIN."),
    ],
    refusals: errors("invalid_request", "unauthorized", "forbidden", "not_found", "rate_limited", "unavailable"),
  };
  const idParameter = parameter("id", "path", schema(generationId), "The generation's id.");
  const userParameter = parameter(
    "user",
    "path",
    schema(string({ min: 1, max: 128 })),
    "The user id (the `sub` of the caller's token), URL-encoded.",
  );
  // Probes, metrics and the internal routes are on the worker's internal port, never published.
  const internalServers = [
    {
      url: "http://{host}:{port}",
      description: "A worker's internal port (WORKER_INTERNAL_PORT): reachable inside the deployment only",
      variables: { host: { default: "127.0.0.1" }, port: { default: "3002" } },
    },
  ];
  // The edge on Cloudflare Workers is outside the VPC: in production on AWS it reaches the internal
  // routes through the WebSocket load balancer's second listener, which forwards /internal/* only
  // (infrastructure/aws/services.yml); readiness and metrics stay inside.
  const internalRouteServers = [
    ...internalServers,
    {
      url: "https://{host}:8443",
      description:
        "Production on AWS: the WebSocket load balancer's internal listener on PUBLIC_WS_URL's host name, " +
        "forwarding /internal/* and nothing else",
      variables: { host: { default: new URL(config.public.wsUrl).hostname } },
    },
  ];
  const messages = schema(serverMessage);

  return document({
    info: {
      title: "Pixel Studio generation API (workers)",
      version: VERSION,
      description:
        "What every worker instance serves: live progress (WebSocket and SSE), images and liveness on WS_PORT; " +
        "readiness, metrics and the synchronous route on WORKER_INTERNAL_PORT. " +
        "Generated from the code's schemas; docs/api.md is the prose contract.",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [
      {
        url: config.public.wsUrl.replace(/^ws/, "http"),
        description: "A worker (PUBLIC_WS_URL); images are linked under PUBLIC_IMAGE_URL",
      },
    ],
    tags: [
      { name: "live", description: "A generation's progress as it happens." },
      { name: "images", description: "Stored images, immutable." },
      { name: "operations", description: "Probes and metrics." },
      { name: "internal", description: "Service-to-service: not for clients." },
    ],
    paths: {
      "/ws/generations/{id}": {
        get: {
          operationId: "openGenerationSocket",
          summary: "Follow a generation over a WebSocket",
          description:
            "Everything is checked before the upgrade. Then the server sends `ServerMessage` JSON text frames: " +
            "a `snapshot` (or, with `after`, the events missed), then each event once, in `seq` order with no " +
            'gaps. The client may send `ping` or `{"type":"ping"}` (answered `{"type":"pong"}`); ' +
            "anything else closes the socket with 1003, a frame over 1 KiB with 1009. Live connections " +
            "(WebSocket and SSE together) are capped per user and per client address across all instances " +
            "(429). Close codes: 1000 after the terminal event, 4404 when no such generation appears within " +
            "5 s, 4401 when the token expires (it is refused from then on), 1013 when the client reads too " +
            "slowly (reconnect with `after`), 1001 on shutdown, 1011 on an internal error.",
          tags: ["live"],
          security: [{ eventToken: [] }],
          parameters: live.parameters,
          responses: {
            "101": { description: "Switching Protocols: `ServerMessage` frames follow." },
            ...live.refusals,
          },
        },
      },
      "/events/generations/{id}": {
        get: {
          operationId: "streamGenerationEvents",
          summary: "Follow a generation as Server-Sent Events",
          description:
            "The same messages as the WebSocket: each SSE event has `id` = `seq`, `event` = the message's " +
            "`type` and `data` = the message JSON. A `: keep-alive` comment every 15 s; the stream ends " +
            "after the terminal event, or when the token expires. Counted with WebSockets against the " +
            "live-connection caps. CORS: `Access-Control-Allow-Origin` is STUDIO_ORIGIN.",
          tags: ["live"],
          security: [{ eventToken: [] }],
          parameters: live.parameters,
          responses: {
            "200": {
              description: "The event stream; each event's data is a `ServerMessage`.",
              content: { "text/event-stream": { schema: messages } },
            },
            ...live.refusals,
          },
        },
      },
      "/images/{key}": {
        get: {
          operationId: "getImage",
          summary: "A stored image",
          description:
            "Keys are content addresses (`<2 hex>/<sha256>.<format>`, slash included), so an image never " +
            "changes: cached for a year, `ETag` is its SHA-256 and `If-None-Match` answers `304`. Clients " +
            "take the URL from the generation's `image.url` (under PUBLIC_IMAGE_URL).",
          tags: ["images"],
          security: [],
          parameters: [
            parameter("key", "path", schema(string({ pattern: IMAGE_KEY })), "The image key."),
            parameter("If-None-Match", "header", { type: "string" }, "An ETag the client holds."),
          ],
          responses: {
            "200": {
              description: "The image.",
              headers: {
                ETag: { description: '`"<sha256>"`', schema: { type: "string" } },
                "Cache-Control": { description: "`public, max-age=31536000, immutable`", schema: { type: "string" } },
              },
              content: Object.fromEntries(
                Object.values(CONTENT_TYPES).map((type) => [type, { schema: { type: "string", format: "binary" } }]),
              ),
            },
            "304": { description: "Not modified: the client's copy is current." },
            ...errors("invalid_request", "not_found", "unavailable"),
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "getWorkerLiveness",
          summary: "Liveness: the process answers",
          tags: ["operations"],
          security: [],
          responses: { "200": json(workerLiveness, "Alive.") },
        },
      },
      "/readyz": {
        get: {
          servers: internalServers,
          operationId: "getWorkerReadiness",
          summary: "Readiness: the Kafka consumer has joined, the producer is connected, Redis answers",
          tags: ["operations"],
          security: [],
          responses: {
            "200": json(workerReadiness, "Ready."),
            "503": json(workerReadiness, "Not ready; `failing` names what."),
          },
        },
      },
      "/metrics": {
        get: {
          servers: internalServers,
          operationId: "getWorkerMetrics",
          summary: "Prometheus metrics",
          tags: ["operations"],
          security: [],
          responses: {
            "200": {
              description: "Prometheus text exposition format 0.0.4.",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/internal/generations": {
        post: {
          servers: internalRouteServers,
          operationId: "generateNow",
          summary: "Generate now and wait (the edge's ENABLE_KAFKA_IMAGE_GENERATION=false path)",
          tags: ["internal"],
          security: [{ serviceToken: [] }],
          requestBody: json(named("RequestEvent", RequestEvent.schema), "The request event.", { required: true }),
          responses: {
            "200": json(generationSnapshot, "The finished generation: completed or failed."),
            ...errors("invalid_request", "unauthorized"),
          },
        },
      },
      "/internal/users/{user}/generations": {
        get: {
          servers: internalRouteServers,
          operationId: "listHistory",
          summary: "A user's ended generations from the durable history, newest first (for the edge's list)",
          description:
            "`before` (exclusive) and `from` (inclusive) are generation ids, as cursors and as time bounds " +
            "(ids are UUIDv7: creation time). Only the history: the edge merges what Redis holds.",
          tags: ["internal"],
          security: [{ serviceToken: [] }],
          parameters: [
            userParameter,
            parameter("before", "query", schema(generationId), "Only ids below this one."),
            parameter("from", "query", schema(generationId), "Only ids from this one on."),
            parameter(
              "status",
              "query",
              { type: "string", pattern: `^(${ENDINGS.join("|")})(,(${ENDINGS.join("|")}))*$` },
              "Comma-separated endings to keep.",
            ),
            parameter("limit", "query", schema(described(integer({ min: 1, max: 1000 }), "Default 20.")), "Rows."),
          ],
          responses: {
            "200": json(historyPage, "The rows."),
            ...errors("invalid_request", "unauthorized", "internal", "unavailable"),
          },
        },
      },
      "/internal/users/{user}/generations/{id}": {
        get: {
          servers: internalRouteServers,
          operationId: "getHistoryRecord",
          summary: "One ended generation of the user from the durable history",
          tags: ["internal"],
          security: [{ serviceToken: [] }],
          parameters: [userParameter, idParameter],
          responses: {
            "200": json(generationRecord, "The record."),
            ...errors("invalid_request", "unauthorized", "not_found", "internal", "unavailable"),
          },
        },
        delete: {
          servers: internalRouteServers,
          operationId: "deleteGeneration",
          summary: "Delete every trace of the user's generation (the edge's DELETE /api/generations/{id})",
          description:
            "In order: a data-free tombstone and every Redis key in one step (a running generation is thereby " +
            "canceled and what Kafka still delivers about it is dropped), the history row and its log lines, then " +
            "the image and thumbnail files unless another generation stored the same bytes. `404` when the user " +
            "has nothing by this id.",
          tags: ["internal"],
          security: [{ serviceToken: [] }],
          parameters: [userParameter, idParameter],
          responses: {
            "204": { description: "Gone everywhere." },
            ...errors("invalid_request", "unauthorized", "not_found", "internal", "unavailable"),
          },
        },
      },
      "/internal/users/{user}/generations/{id}/logs": {
        get: {
          servers: internalRouteServers,
          operationId: "getHistoryLogs",
          summary: "The log lines the history kept for the user's generation, oldest first",
          tags: ["internal"],
          security: [{ serviceToken: [] }],
          parameters: [userParameter, idParameter],
          responses: {
            "200": json(historyLogs, "The lines."),
            ...errors("invalid_request", "unauthorized", "not_found", "internal", "unavailable"),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        eventToken: {
          type: "apiKey",
          in: "query",
          name: "token",
          description:
            "The token in the submit's `links.events` (signed with the event-token key derived from " +
            "AUTH_JWT_SECRET, audience `generation-events`).",
        },
        serviceToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A minute-long HS256 token minted by the edge, keyed with the internal key derived from " +
            "AUTH_JWT_SECRET (HKDF-SHA-256, info `jwt:internal`), audience `internal`.",
        },
      },
    },
  });
}
