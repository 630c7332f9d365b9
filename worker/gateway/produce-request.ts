/**
 * The body of an Upstash Kafka REST produce call, checked completely before anything is
 * written: one bad message rejects the whole request.
 */
import { RequestEvent } from "../../shared/events/events.ts";
import { array, formatIssues, integer, object, optional, string } from "../../shared/schema/schema.ts";
import type { OutgoingRecord } from "./batching-producer.ts";

const INT32_MAX = 2 ** 31 - 1;

const messageShape = {
  key: optional(string()),
  value: string(),
  headers: optional(array(object({ key: string({ min: 1 }), value: string() }))),
  partition: optional(integer({ min: 0, max: INT32_MAX })),
  timestamp: optional(integer({ min: 0 })),
};
/** `POST /produce` names the topic in each message; `POST /produce/{topic}` may repeat it. */
const withTopic = object({ ...messageShape, topic: string({ min: 1 }) });
const pathMessage = object({ ...messageShape, topic: optional(string({ min: 1 })) });

export type ProduceRequest =
  | { ok: true; records: OutgoingRecord[]; single: boolean }
  | { ok: false; status: 400 | 403; error: string };

export interface ProduceRequestOptions {
  /** The `{topic}` of `POST /produce/{topic}`; absent for `POST /produce`. */
  pathTopic?: string;
  allowedTopics: ReadonlySet<string>;
}

const reject = (status: 400 | 403, error: string): ProduceRequest => ({ ok: false, status, error });

export function parseProduceRequest(body: unknown, options: ProduceRequestOptions): ProduceRequest {
  const single = !Array.isArray(body);
  const items: unknown[] = Array.isArray(body) ? body : [body];
  if (items.length === 0) return reject(400, "the request has no messages");
  const at = (i: number, field: string) => (single ? field : `[${i}].${field}`);

  const schema = options.pathTopic === undefined ? withTopic : pathMessage;
  const shaped = array(schema).parse(items);
  if (!shaped.ok) {
    const issues = shaped.issues.map((issue) => ({
      ...issue,
      path: single ? issue.path.replace(/^\[0\]\.?/, "") : issue.path,
    }));
    return reject(400, `invalid message: ${formatIssues(issues)}`);
  }

  const topicOf = (named: string | undefined) => options.pathTopic ?? named ?? "";
  for (const [i, { topic: named }] of shaped.value.entries()) {
    const topic = topicOf(named);
    if (named !== undefined && named !== topic)
      return reject(400, `invalid message: ${at(i, "topic")} "${named}" differs from the topic in the path`);
    if (!options.allowedTopics.has(topic)) return reject(403, `producing to topic "${topic}" is not allowed`);
  }

  const records: OutgoingRecord[] = [];
  for (const [i, { topic: named, ...message }] of shaped.value.entries()) {
    const event = RequestEvent.decode(message.value);
    if (!event.ok)
      return reject(
        400,
        `invalid message: ${at(i, "value")} is not a valid request event (${formatIssues(event.issues)})`,
      );
    if (message.key !== undefined && message.key !== event.value.id)
      return reject(400, `invalid message: ${at(i, "key")} must equal the event id ${event.value.id}`);
    records.push({ ...message, topic: topicOf(named), key: event.value.id });
  }
  return { ok: true, records, single };
}
