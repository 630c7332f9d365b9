import { mintInternalToken } from "../shared/auth/internal-token.ts";
import { PipelineError } from "../shared/errors.ts";
import type { RequestEvent } from "../shared/events/events.ts";
import type { GenerationSnapshot } from "../shared/snapshot.ts";

/** How long the edge waits for a synchronous generation: a whole render, stored. */
export const SYNC_GENERATION_TIMEOUT_MS = 180_000;

/**
 * How long an Idempotency-Key stays claimed by a synchronous request: past its whole render, so
 * a client retrying a slow one is told 409 instead of starting a second (paid) generation.
 */
export const SYNC_IDEMPOTENCY_CLAIM_SECONDS = SYNC_GENERATION_TIMEOUT_MS / 1000 + 60;

/** Code of the error thrown when `maxInFlight` synchronous generations already run. */
export const SYNC_BUSY = "sync_busy";

/**
 * The pre-Kafka path kept for rollback: ask a worker to generate now and wait for the result.
 * Slow by nature (the whole generation), which is why it is behind a flag, and bounded: each
 * call holds a connection for the whole generation, so past `maxInFlight` at once the next
 * is refused at once (`sync_busy`) instead of piling up.
 */
export function syncGenerator(options: {
  workerUrl: string;
  secret: string;
  maxInFlight: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}) {
  const doFetch = options.fetch ?? fetch;
  let inFlight = 0;
  return async (request: RequestEvent): Promise<GenerationSnapshot> => {
    if (inFlight >= options.maxInFlight)
      throw new PipelineError(SYNC_BUSY, `${inFlight} synchronous generations already running`, { retryable: true });
    inFlight++;
    try {
      const response = await doFetch(`${options.workerUrl}/internal/generations`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${await mintInternalToken("edge", options.secret)}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(options.timeoutMs ?? SYNC_GENERATION_TIMEOUT_MS),
      });
      if (!response.ok)
        throw new PipelineError("unavailable", `worker answered ${response.status}`, { retryable: true });
      return (await response.json()) as GenerationSnapshot;
    } finally {
      inFlight--;
    }
  };
}
