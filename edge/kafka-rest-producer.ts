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

export interface ProduceRecord {
  topic: string;
  message: EventMessageRecord;
}

/** A Kafka REST producer that can also send several messages in one call (`POST /produce`). */
export interface BatchRestProducer extends RestProducer {
  /**
   * One call for all of `records`; the results come in their order. `message_rejected` (400,
   * 413: what a message carries, or the call's size) means the endpoint wrote none of them; any
   * other failure may have written some, or refuses every message alike (401, 403, 429).
   */
  produceMany(records: readonly ProduceRecord[]): Promise<ProduceResult[]>;
}

/** A message as the Upstash Kafka REST produce API takes it: headers as a list of pairs. */
export const restMessage = (message: EventMessageRecord) => ({
  key: message.key,
  value: message.value,
  headers: Object.entries(message.headers).map(([key, value]) => ({ key, value })),
});

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
}): BatchRestProducer {
  const doFetch = options.fetch ?? fetch;
  const authorization = `Basic ${btoa(`${options.username}:${options.password}`)}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  /** A success whose answer is not what was asked for: the messages may be written, so it is no refusal. */
  const unconfirmed = (what: string) =>
    new PipelineError("produce_unconfirmed", `Kafka REST answered success without ${what}`);

  /** POSTs a produce body; answers the endpoint's JSON, or throws the failure as a PipelineError. */
  const post = async (path: string, body: unknown): Promise<unknown> => {
    let response: Response;
    try {
      response = await doFetch(`${options.url}${path}`, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new PipelineError("unavailable", `Kafka REST endpoint unreachable: ${(error as Error).message}`, {
        retryable: true,
        cause: error,
      });
    }
    const answer = (await response.json().catch(() => null)) as unknown;
    const said = (answer as { error?: unknown } | null)?.error;
    // A success that says "error" is no refusal: the endpoint may have written the messages.
    if (response.ok && said !== undefined) throw unconfirmed(`positions, with an error: ${JSON.stringify(said)}`);
    if (!response.ok) {
      const message = typeof said === "string" ? said : `HTTP ${response.status}`;
      const { status } = response;
      const code =
        status >= 500 ? "unavailable" : status === 400 || status === 413 ? "message_rejected" : "produce_rejected";
      throw new PipelineError(code, `Kafka REST: ${message}`, { retryable: status >= 500 || status === 429 });
    }
    return answer;
  };
  const isResult = (value: unknown): value is ProduceResult =>
    typeof value === "object" && value !== null && typeof (value as ProduceResult).offset === "number";

  return {
    async produce(topic, message) {
      const answer = await post(`/produce/${encodeURIComponent(topic)}`, restMessage(message));
      const result = Array.isArray(answer) ? answer[0] : answer;
      if (!isResult(result)) throw unconfirmed("a position");
      return result;
    },
    async produceMany(records) {
      const answer = await post(
        "/produce",
        records.map(({ topic, message }) => ({ topic, ...restMessage(message) })),
      );
      if (!Array.isArray(answer) || answer.length !== records.length || !answer.every(isResult))
        throw unconfirmed(`${records.length} positions`);
      return answer;
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
