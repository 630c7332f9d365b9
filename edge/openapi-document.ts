/**
 * The edge's OpenAPI 3.1 document, generated from the validators and body schemas the edge runs
 * (docs/api.md says what each operation does; this is the machine-readable half). Served at
 * `GET /openapi.json` and written to docs/openapi.json by `npm run openapi`.
 */
import {
  acceptedGeneration,
  edgeHealth,
  generationLogs,
  generationPage,
  generationResource,
  webhookSecretCreated,
  webhookSecretRequest,
} from "../shared/api-bodies.ts";
import type { Config } from "../shared/config/parse-config.ts";
import { JOB_STATUSES } from "../shared/job-states.ts";
import { createOpenApiBuilder, type OpenApiDocument, parameter } from "../shared/openapi/openapi-builder.ts";
import { WEBHOOK_PROGRESS_INTERVAL_MS } from "../shared/redis-keys.ts";
import { described, integer, named, string } from "../shared/schema/schema.ts";
import { generationId, generationSnapshot } from "../shared/snapshot.ts";
import { SESSION_TTL_SECONDS, sessionCookie } from "./auth.ts";
import { IDEMPOTENCY_KEY, MAX_BODY_BYTES, MAX_CANCEL_AFTER_SECONDS, submitSchema } from "./submit-body.ts";

/**
 * 3.0.0: the `expired` state and message (a closed set grew), `links` on every generation, the
 * history behind list and get, logs, delete, priority, start deadlines, previews, thumbnails,
 * webhook events. 2.0.0: tokens keyed by HKDF-derived keys with a required `aud`, per-user webhook secrets.
 */
export const API_VERSION = "3.0.0";
const API_SECURITY = [{ bearerToken: [] }, { sessionCookie: [] }];

export function edgeOpenApiDocument(config: Config<"public" | "edge" | "webhooks">): OpenApiDocument {
  const { schema, json, errors, document } = createOpenApiBuilder({ fixedMessages: true });
  const submit = schema(named("SubmitGeneration", submitSchema(config.webhooks)));
  const cookie = sessionCookie(config.public.studioOrigin).name;
  const idParameter = parameter("id", "path", schema(generationId), "The generation's id.");
  // Every webhook delivery carries these beside its webhook-id (Standard Webhooks).
  const signatureHeaders = [
    parameter(
      "webhook-timestamp",
      "header",
      { type: "string", pattern: "^\\d+$" },
      "Unix seconds of this attempt.",
      true,
    ),
    parameter(
      "webhook-signature",
      "header",
      { type: "string", pattern: "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)?$" },
      "`v1,<base64 signature>`; during a rotation's grace two, space-separated (new secret first): " +
        "accept the delivery when one matches.",
      true,
    ),
  ];

  return document({
    info: {
      title: "Pixel Studio generation API (edge)",
      version: API_VERSION,
      description:
        "Submit image generations, read, list, cancel and delete them, and read their logs. Generated from the code's validators; " +
        "docs/api.md is the prose contract. Live progress comes from the workers' API (docs/openapi.worker.json).",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: config.public.studioOrigin, description: "The edge (STUDIO_ORIGIN: it serves the studio page)" }],
    tags: [
      { name: "generations", description: "Submit, read, list, cancel and delete generations; their logs." },
      { name: "webhooks", description: "The signing secret of the caller's webhook deliveries." },
      { name: "studio", description: "The browser studio page and this document." },
      { name: "operations", description: "Probes for load balancers and orchestrators." },
    ],
    security: API_SECURITY,
    paths: {
      "/healthz": {
        get: {
          operationId: "getEdgeHealth",
          summary: "Whether the edge reaches its Kafka REST endpoint and Redis",
          tags: ["operations"],
          security: [],
          responses: {
            "200": json(edgeHealth, 'Both reachable: `{"status":"ok"}`.'),
            "503": json(edgeHealth, "Something is unreachable; `failing` names it."),
          },
        },
      },
      "/": {
        get: {
          operationId: "getStudioPage",
          summary: "The studio page (create form and gallery with live progress)",
          description:
            "Gives a browser without a valid session a new anonymous user in the signed, HttpOnly, SameSite=Lax " +
            `cookie \`${cookie}\` (\`__Host-\` prefixed and Secure when STUDIO_ORIGIN is https), valid ` +
            `${SESSION_TTL_SECONDS / 86_400} days and renewed for the same user when a visit finds it past half ` +
            "its life. New sessions are limited to SESSIONS_PER_IP_PER_HOUR per client address. The page's " +
            "script and style run by a per-response nonce in its Content-Security-Policy.",
          tags: ["studio"],
          security: [],
          responses: {
            "200": {
              description: "The page.",
              headers: {
                "Set-Cookie": {
                  description: `\`${cookie}\`, set for a new session or a renewed one.`,
                  schema: { type: "string" },
                },
                "Content-Security-Policy": {
                  description: "`script-src` and `style-src` allow only this response's nonce.",
                  schema: { type: "string" },
                },
              },
              content: { "text/html": { schema: { type: "string" } } },
            },
            ...errors("rate_limited", "unavailable"),
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "getOpenApiDocument",
          summary: "This document",
          tags: ["studio"],
          security: [],
          responses: {
            "200": {
              description: "The OpenAPI 3.1 document of the edge.",
              content: { "application/json": { schema: { type: "object" } } },
            },
          },
        },
      },
      "/api/generations": {
        post: {
          operationId: "submitGeneration",
          summary: "Submit a generation",
          description:
            "Answered `202` as soon as the request event is in Kafka (acks from all in-sync replicas); `503` " +
            "when it could not be written, and then nothing of it exists anywhere. With " +
            "ENABLE_KAFKA_IMAGE_GENERATION=false the edge waits for the image and answers `200` with the " +
            `finished generation instead (\`503\` beyond SYNC_MAX_IN_FLIGHT at once). Bodies are limited to ` +
            `${MAX_BODY_BYTES} bytes; submissions to RATE_LIMIT_PER_MINUTE per user, and those of session-cookie ` +
            "users also to ANONYMOUS_SUBMITS_PER_IP_PER_MINUTE per client address. `503` while more than " +
            "BACKLOG_MAX_REQUESTS requests wait for the workers. A `webhookUrl` needs the caller's webhook " +
            "secret first (`POST /api/webhook-secret`). A form post riding the session cookie must come from " +
            "STUDIO_ORIGIN. Form fields of digits are read as numbers; empty fields other than prompt are left out, " +
            "and `webhookEventsFilter` is a comma-separated list. `priority` orders the start among waiting " +
            "requests; `Cancel-After` (or `cancelAfter`) sets a start deadline, after which a request no worker " +
            "has started ends `expired` without running.",
          tags: ["generations"],
          parameters: [
            parameter(
              "Idempotency-Key",
              "header",
              schema(string({ pattern: IDEMPOTENCY_KEY })),
              "The same key from the same user within 24 hours answers the first response again (with " +
                "`Idempotent-Replayed: true`) and produces nothing new; `409` while the first is in progress.",
            ),
            parameter(
              "Cancel-After",
              "header",
              { type: "string", pattern: "^(\\d{1,9}|(\\d{1,5}h)?(\\d{1,7}m)?(\\d{1,9}s)?)$", maxLength: 32 },
              `A start deadline from now: \`90s\`, \`5m\`, \`1h30m\` or plain seconds, from 1 s to ` +
                `${MAX_CANCEL_AFTER_SECONDS / 3600} h (or the \`cancelAfter\` field, not both). Not started by ` +
                "then, the generation ends `expired` without running; a started one is not stopped by it.",
            ),
          ],
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: submit },
              "application/x-www-form-urlencoded": { schema: submit },
              "multipart/form-data": { schema: submit },
            },
          },
          responses: {
            "200": json(generationSnapshot, "ENABLE_KAFKA_IMAGE_GENERATION=false: the finished generation."),
            "202": json(acceptedGeneration, "Queued.", {
              headers: {
                Location: { description: "`/api/generations/{id}`", schema: { type: "string" } },
                "Idempotent-Replayed": {
                  description: "`true` when this is the stored answer to an earlier request with the same key.",
                  schema: { type: "string", const: "true" },
                },
              },
            }),
            ...errors(
              "invalid_request",
              "unauthorized",
              "forbidden",
              "conflict",
              "payload_too_large",
              "unsupported_media_type",
              "idempotency_key_reused",
              "rate_limited",
              "too_many_in_flight",
              "internal",
              "unavailable",
            ),
          },
        },
        get: {
          operationId: "listGenerations",
          summary: "The caller's generations, newest first",
          tags: ["generations"],
          description:
            "Every generation the caller made: recent ones from Redis (live state), older ones from the durable " +
            "history, merged by id with one cursor. Filters: `status` (comma-separated), `since` (inclusive) and " +
            "`until` (exclusive), each an ISO 8601 date or UTC instant. Generations served from the history have " +
            "`seq` 0 and no `priority`. `503` when the history cannot answer.",
          parameters: [
            parameter("limit", "query", schema(described(integer({ min: 1, max: 100 }), "Default 20.")), "Page size."),
            parameter("cursor", "query", schema(generationId), "`nextCursor` of the previous page."),
            parameter(
              "status",
              "query",
              { type: "string", pattern: `^ *(${JOB_STATUSES.join("|")}) *(, *(${JOB_STATUSES.join("|")}) *)*$` },
              "Only these statuses, comma-separated.",
            ),
            parameter(
              "since",
              "query",
              { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?Z)?$" },
              "Created at or after this date or UTC instant.",
            ),
            parameter(
              "until",
              "query",
              { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?Z)?$" },
              "Created before this date or UTC instant.",
            ),
          ],
          responses: {
            "200": json(generationPage, "A page of generations."),
            ...errors("invalid_request", "unauthorized", "rate_limited", "internal", "unavailable"),
          },
        },
      },
      "/api/generations/{id}": {
        get: {
          operationId: "getGeneration",
          summary: "One generation",
          description: "Another user's generation answers `404`, exactly like an unknown id.",
          tags: ["generations"],
          parameters: [idParameter],
          responses: {
            "200": json(generationResource, "The generation; fields that do not apply yet are absent."),
            ...errors("unauthorized", "not_found", "rate_limited", "internal", "unavailable"),
          },
        },
        delete: {
          operationId: "deleteGeneration",
          summary: "Delete a generation and everything of it",
          description:
            "A running generation is canceled; then its Redis state, its history row and log, and its image and " +
            "thumbnail files are removed (a file another generation stored with the same bytes stays). Nothing " +
            "written about it later — by a worker still running it, or Kafka redelivering — brings it back. " +
            "Afterwards the id answers `404`. A delete riding the session cookie must come from STUDIO_ORIGIN.",
          tags: ["generations"],
          parameters: [idParameter],
          responses: {
            "204": { description: "Deleted everywhere." },
            ...errors("unauthorized", "forbidden", "not_found", "rate_limited", "internal", "unavailable"),
          },
        },
      },
      "/api/generations/{id}/logs": {
        get: {
          operationId: "getGenerationLogs",
          summary: "A generation's log",
          description:
            "What happened, oldest first: attempts (and on which worker), stages, previews, retries with the error " +
            "code and its fixed message, hand-backs, the outcome with its timings. From Redis while it holds the " +
            "generation, then from the history.",
          tags: ["generations"],
          parameters: [idParameter],
          responses: {
            "200": json(generationLogs, "The log."),
            ...errors("unauthorized", "not_found", "rate_limited", "internal", "unavailable"),
          },
        },
      },
      "/api/generations/{id}/cancel": {
        post: {
          operationId: "cancelGeneration",
          summary: "Cancel a queued or running generation",
          description:
            "The generation ends `canceled` and no image is stored after the worker sees the cancel " +
            "(between stages). The answer shows the generation as it was when the cancel was recorded.",
          tags: ["generations"],
          parameters: [idParameter],
          responses: {
            "202": json(generationResource, "Cancel recorded."),
            ...errors("unauthorized", "forbidden", "not_found", "conflict", "rate_limited", "internal", "unavailable"),
          },
        },
      },
      "/api/webhook-secret": {
        post: {
          operationId: "rotateWebhookSecret",
          summary: "Create or rotate the caller's webhook signing secret",
          description:
            "Makes a new secret that signs the caller's webhook deliveries and shows it this once. Calling " +
            "again rotates: the previous secret keeps signing beside the new one until `previousValidUntil`, " +
            "so receivers can switch without dropping deliveries. A submit with `webhookUrl` needs a secret. " +
            "Counts against READS_PER_IP_PER_MINUTE; a post riding the session cookie must come from STUDIO_ORIGIN.",
          tags: ["webhooks"],
          requestBody: {
            required: false,
            content: { "application/json": { schema: schema(webhookSecretRequest) } },
          },
          responses: {
            "201": json(webhookSecretCreated, "The new secret.", {
              headers: {
                "Cache-Control": { description: "`no-store`", schema: { type: "string", const: "no-store" } },
              },
            }),
            ...errors(
              "invalid_request",
              "unauthorized",
              "forbidden",
              "payload_too_large",
              "unsupported_media_type",
              "rate_limited",
              "internal",
              "unavailable",
            ),
          },
        },
      },
    },
    webhooks: {
      generationEnded: {
        post: {
          operationId: "generationEnded",
          summary: "A generation with a webhookUrl ended",
          description:
            "POSTed to the submit's `webhookUrl` once, when the generation ends (`completed`, `failed`, " +
            "`canceled` or `expired`; unless `webhookEventsFilter` leaves out `completed`): the body is the generation as " +
            "`GET /api/generations/{id}` shows it. Signed per Standard Webhooks with the owner's secret from " +
            "`POST /api/webhook-secret` (`v1,` + base64 HMAC-SHA256, keyed with the secret's base64-decoded bytes " +
            "after `whsec_`, of `<webhook-id>.<webhook-timestamp>.<body>`); any Standard Webhooks library " +
            "verifies it. The destination is checked again at each attempt (every address the host resolves to " +
            "must be public) and the connection goes to the checked address. Anything but a 2xx within " +
            "WEBHOOK_TIMEOUT_MS (10 s) is retried ten times over about two hours; redirects are not followed. " +
            "A delivery is sent at least once: after a crash of its sender it may come again with the same " +
            "`webhook-id`.",
          tags: ["generations"],
          security: [],
          parameters: [
            parameter(
              "webhook-id",
              "header",
              { type: "string", pattern: "^msg_[0-9a-f-]{36}_(completed|failed|canceled|expired)$" },
              "`msg_<generation id>_<status>`: the same on every attempt of the delivery, so drop duplicates.",
              true,
            ),
            ...signatureHeaders,
          ],
          requestBody: json(generationSnapshot, "The ended generation.", { required: true }),
          responses: { "200": { description: "Delivered (any 2xx)." } },
        },
      },
      generationProgress: {
        post: {
          operationId: "generationProgress",
          summary: "A generation with a webhookUrl started or progressed (webhookEventsFilter)",
          description:
            "Only when the submit's `webhookEventsFilter` asks: `start` POSTs once when a worker starts the " +
            "generation, `progress` while it runs, at most every " +
            `${WEBHOOK_PROGRESS_INTERVAL_MS} ms per generation: progress reported meanwhile is coalesced, and ` +
            "each delivery carries the latest state (status `processing`). Signed, checked, retried and leased " +
            "like the ending's delivery; one delivery per generation is pending at a time, and the ending is " +
            "never lost behind a progress delivery in flight.",
          tags: ["generations"],
          security: [],
          parameters: [
            parameter(
              "webhook-id",
              "header",
              { type: "string", pattern: "^msg_[0-9a-f-]{36}_processing_\\d+$" },
              "`msg_<generation id>_processing_<seq>`: the state's `seq`; a retry after newer progress carries the " +
                "newer state and its id.",
              true,
            ),
            ...signatureHeaders,
          ],
          requestBody: json(generationSnapshot, "The generation, running.", { required: true }),
          responses: { "200": { description: "Delivered (any 2xx)." } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "HS256, keyed with the API key derived from AUTH_JWT_SECRET (HKDF-SHA-256, salt " +
            "`pixel-studio/token-keys/v1`, info `jwt:api`, 32 bytes); `aud` must be `api`, `sub` is the user " +
            "id, `exp` is required (`npm run token`).",
        },
        sessionCookie: {
          type: "apiKey",
          in: "cookie",
          name: cookie,
          description: "The studio page's anonymous session (a JWT with the session key and audience).",
        },
      },
    },
  });
}
