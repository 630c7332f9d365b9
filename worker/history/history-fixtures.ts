/** Test helpers: terminal events as the generation workers build them, for a given user. */
import { CompleteEvent, FailedEvent, RequestEvent } from "../../shared/events/events.ts";
import { uuidv7 } from "../../shared/uuid7.ts";

export const freshUser = (): string => `user-history-${crypto.randomUUID().slice(0, 8)}`;

function request(userId: string, seed: number): RequestEvent {
  return RequestEvent.create({
    id: uuidv7(),
    userId,
    params: {
      prompt: `a lighthouse at dusk #${seed}`,
      style: "pixel-art",
      width: 512,
      height: 512,
      format: "webp",
      seed,
    },
    createdAt: new Date().toISOString(),
    attempt: 1,
  });
}

export function completeEvent(userId: string, seed = 1): CompleteEvent {
  const req = request(userId, seed);
  return CompleteEvent.create({
    id: req.id,
    userId,
    params: req.params,
    image: {
      key: `${req.id}.webp`,
      url: `http://localhost:3001/images/${req.id}.webp`,
      width: 512,
      height: 512,
      format: "webp",
      bytes: 1234 + seed,
      sha256: "ab".repeat(32),
    },
    timings: { queuedMs: 5, generationMs: 40, totalMs: 50 },
    attempts: 1,
    completedAt: new Date(Date.now() + 50).toISOString(),
  });
}

export function failedEvent(userId: string, seed = 1): FailedEvent {
  const req = request(userId, seed);
  return FailedEvent.create({
    id: req.id,
    userId,
    request: req,
    error: { code: "timeout", message: "the provider took too long", retryable: false },
    attempts: 3,
    failedAt: new Date(Date.now() + 90).toISOString(),
  });
}
