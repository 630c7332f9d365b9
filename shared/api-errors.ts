/**
 * Every error code the HTTP API answers with, its status and what it means: the one table the
 * edge answers from (`edge/api-error.ts`) and the OpenAPI documents are generated from.
 */
import { array, type Infer, named, object, oneOf, optional, string } from "./schema/schema.ts";

export const API_ERRORS = {
  invalid_request: {
    status: 400,
    meaning: "The request is malformed; `details` names each field and what is wrong with it.",
  },
  unauthorized: { status: 401, meaning: "No valid credentials: a bearer token, session cookie or event token." },
  forbidden: { status: 403, meaning: "The browser's Origin is not the studio page's (live endpoints only)." },
  not_found: { status: 404, meaning: "No such route, or no generation with this id that belongs to the caller." },
  conflict: {
    status: 409,
    meaning: "The generation already ended, or a request with this Idempotency-Key is still in progress.",
  },
  payload_too_large: { status: 413, meaning: "The body is larger than 16 KiB." },
  unsupported_media_type: {
    status: 415,
    meaning: "The body is not application/json, application/x-www-form-urlencoded or multipart/form-data.",
  },
  rate_limited: {
    status: 429,
    meaning:
      "Too many submissions this minute (see Retry-After), or too many live connections for the user or the client address.",
    retryAfter: true,
  },
  internal: { status: 500, meaning: "A fault on our side; details go to our logs, never to the response." },
  unavailable: {
    status: 503,
    meaning: "A dependency (Kafka, Redis, the generator) cannot be reached or record the request; try again.",
  },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;
export const API_ERROR_CODES = Object.keys(API_ERRORS) as ApiErrorCode[];

/** `{ "error": { "code", "message", "details"? } }`: the body of every error answer. */
export const apiErrorBody = named(
  "Error",
  object({
    error: object({
      code: oneOf(API_ERROR_CODES),
      message: string({ min: 1 }),
      details: optional(array(object({ path: string(), message: string({ min: 1 }) }))),
    }),
  }),
);
export type ApiErrorBody = Infer<typeof apiErrorBody>;
export type ApiErrorDetail = NonNullable<ApiErrorBody["error"]["details"]>[number];
