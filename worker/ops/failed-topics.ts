/**
 * Topics whose records are generations that ended badly: the console browses and inspects them
 * all the same way, and replays those whose records are failed events. Another such topic joins
 * the console by adding its key here.
 */
import { FailedEvent } from "../../shared/events/events.ts";
import { TOPIC_DEFINITIONS, type TopicKey } from "../../shared/topics.ts";

export const FAILED_LIKE_TOPICS: readonly TopicKey[] = ["failed", "deadLetter"];

/** Failed-like topics whose records carry the request, so `kafka:replay-failed` can re-queue it. */
export const REPLAYABLE_TOPICS = FAILED_LIKE_TOPICS.filter((key) => TOPIC_DEFINITIONS[key].event === FailedEvent);

export const isFailedLike = (key: TopicKey): boolean => FAILED_LIKE_TOPICS.includes(key);
