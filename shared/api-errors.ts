/**
 * Every error code the HTTP API answers with: its status, what it means, and the one fixed
 * `message` the edge's API answers with (what went wrong in particular goes to the edge's log,
 * never to the client). The one table the edge answers from (`edge/api-error.ts`) and the
 * OpenAPI documents are generated from. `retryAfter`: when the answer carries `Retry-After`.
 */
import { array, type Infer, named, object, oneOf, optional, string } from "./schema/schema.ts";

export interface ApiErrorEntry {
  status: number;
  meaning: string;
  message: string;
  retryAfter?: string;
}

export const API_ERRORS = {
  invalid_request: {
    status: 400,
    meaning: "The request is malformed; `details` names each field and what is wrong with it.",
    message: "The request is invalid; see details",
  },
  unauthorized: {
    status: 401,
    meaning: "No valid credentials: a bearer token, session cookie or event token.",
    message: "Send a valid 'Authorization: Bearer <token>' or open the studio page for a session",
  },
  forbidden: {
    status: 403,
    meaning:
      "A cross-site request: a form post riding the session cookie from another origin than STUDIO_ORIGIN, " +
      "or a live connection whose Origin is not the studio page's.",
    message: "Cross-site requests are not accepted",
  },
  not_found: {
    status: 404,
    meaning: "No such route, or no generation with this id that belongs to the caller.",
    message: "Not found",
  },
  conflict: {
    status: 409,
    meaning: "The generation already ended, or a request with this Idempotency-Key is still in progress.",
    message: "The request conflicts with the current state of the resource",
  },
  idempotency_key_reused: {
    status: 422,
    meaning:
      "The Idempotency-Key was already used by this user for a request with another body (or Cancel-After) " +
      "within 24 hours; a key names one request. Use a new key for a new request.",
    message: "This Idempotency-Key was already used with a different request",
  },
  payload_too_large: {
    status: 413,
    meaning: "The body is larger than 16 KiB.",
    message: "The body is larger than the API accepts",
  },
  unsupported_media_type: {
    status: 415,
    meaning:
      "The body's type is not accepted: a submission takes application/json, application/x-www-form-urlencoded " +
      "or multipart/form-data; the webhook secret call takes no body or application/json.",
    message: "The body's content type is not accepted here; send application/json",
  },
  rate_limited: {
    status: 429,
    meaning:
      "A limit is reached: submissions per user, new sessions, anonymous submissions or other API calls per " +
      "client address, anonymous submissions of all users together, or live connections per user or per client address.",
    message: "Too many requests; retry after the time in Retry-After",
    retryAfter:
      "Seconds until the limit admits the request again (every 429 of the edge; the live endpoints' " +
      "connection caps send none).",
  },
  too_many_in_flight: {
    status: 429,
    meaning:
      "The user already has MAX_IN_FLIGHT_PER_USER generations queued or running; one must end (or be canceled) first.",
    message: "Too many generations in progress; wait for one to finish",
    retryAfter: "Seconds after which to try again (a generation may have ended by then).",
  },
  internal: {
    status: 500,
    meaning: "A fault on our side; details go to our logs, never to the response.",
    message: "Internal error",
  },
  unavailable: {
    status: 503,
    meaning:
      "Try again later: a dependency (Kafka, Redis, the generator) cannot be reached or record the request, " +
      "the rate limiter could not decide, the workers are too far behind, or too many synchronous generations run.",
    message: "Temporarily unavailable; retry after the time in Retry-After",
    retryAfter: "Seconds to wait before trying again (every 503 of the edge's API).",
  },
} as const satisfies Record<string, ApiErrorEntry>;

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
