import type { EventDefinition } from "./define-event.ts";

/** What docs/api.md says every message carries: key = generation id, JSON value, two headers. */
export interface EventMessageRecord {
  key: string;
  value: string;
  headers: { "content-type": string; traceparent: string };
}

const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

/** A W3C trace context for a new trace, sampled. */
export const newTraceparent = (): string => `00-${hex(16)}-${hex(8)}-01`;

/** The same trace, a new span: what each hop writes when it produces on behalf of a request. */
export function childTraceparent(parent: string | undefined): string {
  const match = parent && /^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/.exec(parent);
  return match ? `00-${match[1]}-${hex(8)}-${match[2]}` : newTraceparent();
}

export function toKafkaMessage<T extends { v: 1; id: string }>(
  definition: EventDefinition<T>,
  event: T,
  traceparent: string,
): EventMessageRecord {
  return {
    key: event.id,
    value: definition.encode(event),
    headers: { "content-type": "application/json", traceparent },
  };
}
