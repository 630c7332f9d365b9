/**
 * The edge's OpenAPI 3.1 document, generated from the validators and body schemas the edge runs
 * (docs/api.md says what each operation does; this is the machine-readable half). Served at
 * `GET /openapi.json` and written to docs/openapi.json by `npm run openapi`.
 */
import { acceptedGeneration, edgeHealth, generationPage } from "../shared/api-bodies.ts";
import type { Config } from "../shared/config/parse-config.ts";
import { createOpenApiBuilder, type OpenApiDocument, parameter } from "../shared/openapi/openapi-builder.ts";
import { described, integer, named, string } from "../shared/schema/schema.ts";
import { generationId, generationSnapshot } from "../shared/snapshot.ts";
import { sessionCookie } from "./auth.ts";
import { IDEMPOTENCY_KEY, MAX_BODY_BYTES, submitSchema } from "./submit-body.ts";

export const API_VERSION = "1.0.0";
const API_SECURITY = [{ bearerToken: [] }, { sessionCookie: [] }];

export function edgeOpenApiDocument(config: Config<"public" | "edge" | "webhooks">): OpenApiDocument {
  const { schema, json, errors, document } = createOpenApiBuilder({ fixedMessages: true });
  const submit = schema(named("SubmitGeneration", submitSchema(config.webhooks)));
  const SESSION_COOKIE = sessionCookie(config.public.studioOrigin).name;
  const idParameter = parameter("id", "path", schema(generationId), "The generation's id.");

  return document({
    info: {
      title: "Pixel Studio generation API (edge)",
      version: API_VERSION,
      description:
        "Submit image generations, read and cancel them. Generated from the code's validators; " +
        "docs/api.md is the prose contract. Live progress comes from the workers' API (docs/openapi.worker.json).",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: config.public.studioOrigin, description: "The edge (STUDIO_ORIGIN: it serves the studio page)" }],
    tags: [
      { name: "generations", description: "Submit, read, list and cancel generations." },
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
          summary: "The studio page (create form with live progress)",
          description: `Gives a browser without a valid session an anonymous user in the signed, HttpOnly, SameSite=Lax cookie \`${SESSION_COOKIE}\`.`,
          tags: ["studio"],
          security: [],
          responses: {
            "200": {
              description: "The page.",
              headers: {
                "Set-Cookie": {
                  description: `\`${SESSION_COOKIE}\`, set when the browser had no valid session.`,
                  schema: { type: "string" },
                },
              },
              content: { "text/html": { schema: { type: "string" } } },
            },
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
            `finished generation instead. Bodies are limited to ${MAX_BODY_BYTES} bytes; submissions to ` +
            "RATE_LIMIT_PER_MINUTE per user. Form fields of digits are read as numbers; empty fields other " +
            "than prompt are left out.",
          tags: ["generations"],
          parameters: [
            parameter(
              "Idempotency-Key",
              "header",
              schema(string({ pattern: IDEMPOTENCY_KEY })),
              "The same key from the same user within 24 hours answers the first response again (with " +
                "`Idempotent-Replayed: true`) and produces nothing new; `409` while the first is in progress.",
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
              "conflict",
              "payload_too_large",
              "unsupported_media_type",
              "rate_limited",
              "internal",
              "unavailable",
            ),
          },
        },
        get: {
          operationId: "listGenerations",
          summary: "The caller's generations, newest first",
          tags: ["generations"],
          parameters: [
            parameter("limit", "query", schema(described(integer({ min: 1, max: 100 }), "Default 20.")), "Page size."),
            parameter("cursor", "query", schema(generationId), "`nextCursor` of the previous page."),
          ],
          responses: {
            "200": json(generationPage, "A page of generations."),
            ...errors("invalid_request", "unauthorized", "internal"),
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
            "200": json(generationSnapshot, "The generation; fields that do not apply yet are absent."),
            ...errors("unauthorized", "not_found", "internal"),
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
            "202": json(generationSnapshot, "Cancel recorded."),
            ...errors("unauthorized", "not_found", "conflict", "internal"),
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
            "POSTed to the submit's `webhookUrl` once, when the generation ends: the body is the generation as " +
            "`GET /api/generations/{id}` shows it. Signed per Standard Webhooks with WEBHOOK_SECRET " +
            "(`v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`). Anything but a 2xx " +
            "within 10 s is retried ten times over about two hours; redirects are not followed.",
          tags: ["generations"],
          security: [],
          parameters: [
            parameter("webhook-id", "header", { type: "string" }, "Stable across retries: drop duplicates.", true),
            parameter("webhook-timestamp", "header", { type: "string" }, "Unix seconds of this attempt.", true),
            parameter("webhook-signature", "header", { type: "string" }, "`v1,<base64 signature>`.", true),
          ],
          requestBody: json(generationSnapshot, "The ended generation.", { required: true }),
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
          description: "HS256 with AUTH_JWT_SECRET; `sub` is the user id, `exp` is required (`npm run token`).",
        },
        sessionCookie: {
          type: "apiKey",
          in: "cookie",
          name: SESSION_COOKIE,
          description: "The studio page's anonymous session.",
        },
      },
    },
  });
}
