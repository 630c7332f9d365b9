import { mintInternalToken } from "../shared/auth/internal-token.ts";
import { PipelineError } from "../shared/errors.ts";
import type { GenerationLogEntry, GenerationRecord } from "../shared/history.ts";
import type { Ending } from "../shared/job-states.ts";

export interface HistoryQuery {
  limit: number;
  /** Ids below this one (exclusive). */
  before?: string;
  /** Ids from this one on (inclusive). */
  from?: string;
  statuses?: readonly Ending[];
}

/** The durable history and deletion, reached over the container tier's internal HTTP routes. */
export interface HistoryClient {
  list(userId: string, query: HistoryQuery): Promise<GenerationRecord[]>;
  get(userId: string, id: string): Promise<GenerationRecord | null>;
  logs(userId: string, id: string): Promise<GenerationLogEntry[] | null>;
  /** Deletes every trace of the generation; false when the user has none by that id. */
  delete(userId: string, id: string): Promise<boolean>;
}

/**
 * The edge reaches the history with `fetch` only (Web-standard on every runtime) through the
 * worker HTTP routes at WORKER_URL, authenticated with a minute-long internal token; the
 * database driver stays in the container tier. Any failure to get an answer is `unavailable`.
 */
export function createHistoryClient(options: {
  workerUrl: string;
  secret: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): HistoryClient {
  const doFetch = options.fetch ?? fetch;
  const base = (userId: string) => `${options.workerUrl}/internal/users/${encodeURIComponent(userId)}/generations`;

  async function call(url: string, method = "GET"): Promise<Response> {
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: { authorization: `Bearer ${await mintInternalToken("edge", options.secret)}` },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new PipelineError("unavailable", `history unreachable: ${(error as Error).message}`, {
        retryable: true,
        cause: error,
      });
    }
    if (response.ok || response.status === 404) return response;
    await response.body?.cancel();
    throw new PipelineError("unavailable", `history answered ${response.status}`, {
      retryable: response.status >= 500,
    });
  }

  return {
    async list(userId, query) {
      const params = new URLSearchParams({ limit: String(query.limit) });
      if (query.before) params.set("before", query.before);
      if (query.from) params.set("from", query.from);
      if (query.statuses) params.set("status", query.statuses.join(","));
      const response = await call(`${base(userId)}?${params}`);
      if (!response.ok) throw new PipelineError("unavailable", "history listing answered 404", { retryable: true });
      return ((await response.json()) as { items: GenerationRecord[] }).items;
    },
    async get(userId, id) {
      const response = await call(`${base(userId)}/${id}`);
      return response.ok ? ((await response.json()) as GenerationRecord) : null;
    },
    async logs(userId, id) {
      const response = await call(`${base(userId)}/${id}/logs`);
      return response.ok ? ((await response.json()) as { entries: GenerationLogEntry[] }).entries : null;
    },
    async delete(userId, id) {
      const response = await call(`${base(userId)}/${id}`, "DELETE");
      await response.body?.cancel();
      return response.status === 204;
    },
  };
}
