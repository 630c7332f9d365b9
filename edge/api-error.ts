import type { Context } from "hono";
import { API_ERRORS, type ApiErrorBody, type ApiErrorCode, type ApiErrorDetail } from "../shared/api-errors.ts";

export type { ApiErrorCode } from "../shared/api-errors.ts";

/**
 * An answer from shared/api-errors.ts's table: nothing else is ever answered. The client sees the
 * code's fixed `message` from that table; this error's own message (and anything it wraps) is
 * detail for the logs, since it may name hosts, paths or upstream errors. `details` reach the
 * client only for invalid_request (field-level issues in the client's own input).
 */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: ApiErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  const entry = API_ERRORS[error.code];
  const body: ApiErrorBody = { error: { code: error.code, message: entry.message } };
  if (error.details !== undefined && error.code === "invalid_request") body.error.details = error.details;
  return c.json(body, entry.status);
}
