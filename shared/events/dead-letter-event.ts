import { integer, isoDate, literal, object, oneOf, optional, string } from "../schema/schema.ts";
import { UUID_V7 } from "../uuid7.ts";
import { defineEvent } from "./define-event.ts";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const bytes = (max: number) => string({ max, pattern: BASE64, patternMessage: "must be base64" });

/** Header names of a dead-lettered message: the same facts as the event, readable without decoding it. */
export const DEAD_LETTER_HEADERS = {
  reason: "dlt-reason",
  code: "dlt-error-code",
  consumer: "dlt-consumer",
  topic: "dlt-source-topic",
  partition: "dlt-source-partition",
  offset: "dlt-source-offset",
  redisKey: "dlt-source-redis-key",
  valueBytes: "dlt-value-bytes",
} as const;

/** The largest original value a dead letter carries (bytes, before base64); a larger one is left out. */
export const MAX_PARKED_VALUE_BYTES = 3 * 1024 * 1024;

/**
 * A message a consumer parked because it fails the same way on every attempt (undecodable,
 * schema-invalid, refused deterministically by Redis, or a bug in our code), so the consumer
 * could move past it. The original bytes travel unchanged (base64), so nothing is lost and the
 * message can be re-driven once its cause is fixed.
 */
export const DeadLetterEvent = defineEvent(
  "dead-letter",
  object({
    v: literal(1),
    /** This dead letter's own id. */
    id: string({ pattern: UUID_V7, patternMessage: "must be a UUIDv7" }),
    /** Who parked it: the consumer group, or the component for a non-Kafka source. */
    consumer: string({ min: 1, max: 255 }),
    source: object({
      kind: oneOf(["kafka", "redis"]),
      topic: optional(string({ min: 1, max: 249 })),
      partition: optional(integer({ min: 0 })),
      offset: optional(string({ pattern: /^\d{1,20}$/, patternMessage: "must be a Kafka offset" })),
      /** For Redis sources: the key and member the work item was read from. */
      redisKey: optional(string({ min: 1, max: 1024 })),
      member: optional(string({ min: 1, max: 1024 })),
    }),
    error: object({ code: string({ min: 1, max: 64 }), message: string({ min: 1, max: 2000 }) }),
    keyBase64: optional(bytes(4096)),
    /** Absent when the original value was null (a tombstone), or too large to park (then `valueBytes`). */
    valueBase64: optional(bytes(4 * 1024 * 1024)),
    /**
     * Present only when the value was left out: its size in bytes. A value that would make the
     * dead letter larger than the topic takes (or than MAX_PARKED_VALUE_BYTES) is never parked,
     * so an oversized message cannot stall its consumer; it stays readable at its source offset
     * until the source topic's retention.
     */
    valueBytes: optional(integer({ min: 0 })),
    deadLetteredAt: isoDate(),
  }),
);
export type DeadLetterEvent = ReturnType<typeof DeadLetterEvent.create>;
