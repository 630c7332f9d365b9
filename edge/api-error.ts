import type { Context } from "hono";
import { API_ERRORS, type ApiErrorBody, type ApiErrorCode, type ApiErrorDetail } from "../shared/api-errors.ts";

export type { ApiErrorCode } from "../shared/api-errors.ts";

/** An answer from shared/api-errors.ts's table: nothing else is ever answered. */
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
  const body: ApiErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details;
  return c.json(body, API_ERRORS[error.code].status);
}
