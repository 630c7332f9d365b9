/**
 * The studio's calls to the edge's API, typed by the shapes in shared/ the edge answers with.
 * The session cookie authenticates them (same origin).
 */
import type { AcceptedGeneration, GenerationPage, GenerationResource } from "../../../shared/api-bodies.ts";
import type { ApiErrorBody } from "../../../shared/api-errors.ts";
import type { GenerationParams } from "../../../shared/events/params.ts";

/** A refusal, worded for people: the code's fixed message, then what is wrong with which field. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    body: ApiErrorBody | null,
  ) {
    const details = body?.error.details?.map((d) => `${d.path} ${d.message}`).join("; ");
    super(body ? body.error.message + (details ? `: ${details}` : "") : `Request failed (${status})`);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, { credentials: "same-origin", ...init });
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new ApiRefusal(response.status, body as ApiErrorBody | null);
  return body as T;
}

/** The fields a submission takes; a retry sends a generation's own params again. */
export type SubmitParams = Partial<GenerationParams> & { prompt: string };

export const api = {
  list: (cursor: string | null, limit: number) =>
    call<GenerationPage>(`/api/generations?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
  get: (id: string) => call<GenerationResource>(`/api/generations/${id}`),
  submit: (params: SubmitParams) =>
    call<AcceptedGeneration>("/api/generations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
    }),
  cancel: (id: string) => call<GenerationResource>(`/api/generations/${id}/cancel`, { method: "POST" }),
  remove: (id: string) => call<undefined>(`/api/generations/${id}`, { method: "DELETE" }),
};
