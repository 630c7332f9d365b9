import { PipelineError } from "../shared/errors.ts";
import type { EventMessageRecord } from "../shared/events/kafka-message.ts";

export interface ProduceResult {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

export interface RestProducer {
  produce(topic: string, message: EventMessageRecord): Promise<ProduceResult>;
  healthy(): Promise<boolean>;
}

/**
 * Produces through an Upstash-compatible Kafka REST endpoint with one attempt and a deadline.
 * (`@upstash/kafka` retries every failure, 4xx included, five times over ~15 s and cannot be
 * told not to; a late retry could then write a request the edge had already answered 503.)
 */
export function createRestProducer(options: {
  url: string;
  username: string;
  password: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): RestProducer {
  const doFetch = options.fetch ?? fetch;
  const authorization = `Basic ${btoa(`${options.username}:${options.password}`)}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    async produce(topic, message) {
      let response: Response;
      try {
        response = await doFetch(`${options.url}/produce/${encodeURIComponent(topic)}`, {
          method: "POST",
          headers: { authorization, "content-type": "application/json" },
          body: JSON.stringify({
            key: message.key,
            value: message.value,
            headers: Object.entries(message.headers).map(([key, value]) => ({ key, value })),
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new PipelineError("unavailable", `Kafka REST endpoint unreachable: ${(error as Error).message}`, {
          retryable: true,
          cause: error,
        });
      }
      const body = (await response.json().catch(() => null)) as
        | ProduceResult
        | ProduceResult[]
        | { error?: string }
        | null;
      if (!response.ok || body === null || "error" in (body as object)) {
        const message = (body as { error?: string } | null)?.error ?? `HTTP ${response.status}`;
        throw new PipelineError(response.status >= 500 ? "unavailable" : "produce_rejected", `Kafka REST: ${message}`, {
          retryable: response.status >= 500 || response.status === 429,
        });
      }
      return Array.isArray(body) ? (body[0] as ProduceResult) : (body as ProduceResult);
    },
    async healthy() {
      try {
        const response = await doFetch(`${options.url}/`, {
          headers: { authorization },
          signal: AbortSignal.timeout(2000),
        });
        return response.ok;
      } catch {
        return false;
      }
    },
  };
}
