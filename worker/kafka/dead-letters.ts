import { clipText, errorMessage, PipelineError } from "../../shared/errors.ts";
import { DEAD_LETTER_HEADERS, DeadLetterEvent, MAX_PARKED_VALUE_BYTES } from "../../shared/events/dead-letter-event.ts";
import { childTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import type { Logger } from "../../shared/logger.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import type { BatchingProducer } from "../gateway/batching-producer.ts";

export type DeadLetterSource =
  | { kind: "kafka"; topic: string; partition: number; offset: string }
  | { kind: "redis"; redisKey: string; member: string };

export interface PoisonMessage {
  source: DeadLetterSource;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  /** The original trace, so the dead letter stays in it. */
  traceparent?: string;
  error: unknown;
}

/** What a dead letter is counted by (the Prometheus labels of `pixel_dead_letters_total`). */
export interface ParkedLabels {
  consumer: string;
  source: string;
  code: string;
}

/** The error code a dead letter is filed under: ours, or `internal` for anything else (a bug). */
export const poisonCode = (error: unknown): string => (error instanceof PipelineError ? error.code : "internal");

const base64 = (data: Buffer | string) => Buffer.from(data).toString("base64");

/** Broker answers that the record (or its batch) is larger than the topic takes: retrying never helps. */
const TOO_LARGE = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"]);
const isTooLarge = (error: unknown): boolean => {
  const type = (error as { details?: { type?: unknown } } | null)?.details?.type;
  return typeof type === "string" && TOO_LARGE.has(type);
};

/**
 * Parks messages that fail the same way on every attempt on the dead-letter topic, with the
 * reason, the error code and where they came from (in the event and as headers), so their
 * consumer can commit past them. `park` resolves only once Kafka has the dead letter; when it
 * cannot be written it rejects (retryable) and the caller must not move on.
 */
export function createDeadLetters(options: {
  producer: BatchingProducer;
  topic: string;
  /** Who is parking: a consumer group id, or a component name for non-Kafka sources. */
  consumer: string;
  logger: Logger;
  onParked?(labels: ParkedLabels): void;
}) {
  const { producer, topic, consumer, logger } = options;
  let parked = 0;
  return {
    async park(poison: PoisonMessage): Promise<void> {
      const code = clipText(poisonCode(poison.error), 64) || "internal";
      const reason = clipText(errorMessage(poison.error), 2000) || "unknown error";
      const { source } = poison;
      const valueBytes = poison.value === null ? 0 : Buffer.byteLength(poison.value);
      /** The dead letter, with the original value or (too large to park) only its size. */
      const letter = (withValue: boolean) => {
        const event = DeadLetterEvent.create({
          id: uuidv7(),
          consumer,
          source,
          error: { code, message: reason },
          ...(poison.key ? { keyBase64: base64(poison.key) } : {}),
          ...(poison.value === null ? {} : withValue ? { valueBase64: base64(poison.value) } : { valueBytes }),
          deadLetteredAt: new Date().toISOString(),
        });
        const message = toKafkaMessage(DeadLetterEvent, event, childTraceparent(poison.traceparent));
        const where =
          source.kind === "kafka"
            ? {
                [DEAD_LETTER_HEADERS.topic]: source.topic,
                [DEAD_LETTER_HEADERS.partition]: String(source.partition),
                [DEAD_LETTER_HEADERS.offset]: source.offset,
              }
            : { [DEAD_LETTER_HEADERS.redisKey]: source.redisKey };
        const headers = {
          ...message.headers,
          [DEAD_LETTER_HEADERS.reason]: clipText(reason, 500),
          [DEAD_LETTER_HEADERS.code]: code,
          [DEAD_LETTER_HEADERS.consumer]: consumer,
          ...where,
          ...(withValue ? {} : { [DEAD_LETTER_HEADERS.valueBytes]: String(valueBytes) }),
        };
        const record = {
          key: message.key,
          value: message.value,
          headers: Object.entries(headers).map(([key, value]) => ({ key, value })),
        };
        return { event, record };
      };
      let { event, record } = letter(poison.value !== null && valueBytes <= MAX_PARKED_VALUE_BYTES);
      try {
        try {
          await producer.send(topic, [record]);
        } catch (error) {
          // Larger than the dead-letter topic takes: that never changes, so the value is left out
          // and the rest parked; retrying would hold the consumer on this message forever.
          if (!isTooLarge(error) || event.valueBase64 === undefined) throw error;
          ({ event, record } = letter(false));
          await producer.send(topic, [record]);
        }
      } catch (error) {
        throw new PipelineError("dead_letter_unavailable", `cannot park a message: ${errorMessage(error)}`, {
          retryable: true,
          cause: error,
        });
      }
      parked++;
      const from = source.kind === "kafka" ? source.topic : source.redisKey;
      options.onParked?.({ consumer, source: from, code });
      logger.error("message parked on the dead-letter topic", {
        deadLetter: event.id,
        consumer,
        source,
        code,
        reason,
        ...(event.valueBytes === undefined ? {} : { valueOmittedBytes: event.valueBytes }),
      });
    },
    /** Dead letters this instance wrote. */
    get parked(): number {
      return parked;
    },
  };
}
export type DeadLetters = ReturnType<typeof createDeadLetters>;
