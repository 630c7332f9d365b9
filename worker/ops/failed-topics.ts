/**
 * Topics whose records are generations that ended badly: the console browses, inspects and
 * replays them all the same way. A dead-letter topic joins the console by adding its key here.
 */
import type { TopicKey } from "../../shared/topics.ts";

export const FAILED_LIKE_TOPICS: readonly TopicKey[] = ["failed"];

export const isFailedLike = (key: TopicKey): boolean => FAILED_LIKE_TOPICS.includes(key);
