/** Test helpers: events as the generation workers build them, for a given user. */
import { CompleteEvent, FailedEvent, type LogLine, RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import { uuidv7, uuidv7Floor } from "../../shared/uuid7.ts";

export const freshUser = (): string => `user-history-${crypto.randomUUID().slice(0, 8)}`;

/** A UUIDv7 of a given moment (uuidv7() never goes back in time, by design). */
export function idAt(ms: number): string {
  const random = crypto.randomUUID().replaceAll("-", "");
  const floor = uuidv7Floor(ms);
  return `${floor.slice(0, 14)}7${random.slice(0, 3)}-a${random.slice(3, 6)}-${random.slice(6, 18)}`;
}

function request(userId: string, seed: number, id = uuidv7()): RequestEvent {
  return RequestEvent.create({
    id,
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

const sha = (n: number) => n.toString(16).padStart(2, "0").repeat(32);

export function completeEvent(userId: string, seed = 1, id = uuidv7()): CompleteEvent {
  const req = request(userId, seed, id);
  const image = sha(seed % 256);
  const thumb = sha((seed + 128) % 256);
  return CompleteEvent.create({
    id: req.id,
    userId,
    params: req.params,
    image: {
      key: `${image.slice(0, 2)}/${image}.webp`,
      url: `http://localhost:3001/images/${image.slice(0, 2)}/${image}.webp`,
      width: 512,
      height: 512,
      format: "webp",
      bytes: 1234 + seed,
      sha256: image,
    },
    thumbnail: {
      key: `${thumb.slice(0, 2)}/${thumb}.webp`,
      url: `http://localhost:3001/images/${thumb.slice(0, 2)}/${thumb}.webp`,
      width: 256,
      height: 256,
      format: "webp",
      bytes: 321 + seed,
      sha256: thumb,
    },
    timings: { queuedMs: 5, generationMs: 40, totalMs: 50 },
    attempts: 1,
    completedAt: new Date(Date.now() + 50).toISOString(),
  });
}

export function failedEvent(userId: string, seed = 1, id = uuidv7()): FailedEvent {
  const req = request(userId, seed, id);
  return FailedEvent.create({
    id: req.id,
    userId,
    request: req,
    error: { code: "timeout", message: "the provider took too long", retryable: false },
    attempts: 3,
    failedAt: new Date(Date.now() + 90).toISOString(),
  });
}

/** The terminal status event of a canceled or expired generation: it carries its request. */
export function endedStatusEvent(userId: string, status: "canceled" | "expired", seed = 1, id = uuidv7()): StatusEvent {
  const req = request(userId, seed, id);
  return StatusEvent.create({
    id: req.id,
    userId,
    seq: 9,
    status,
    progress: 100,
    stage: "done",
    at: new Date(Date.now() + 70).toISOString(),
    workerId: "test-worker",
    attempt: 1,
    request: req,
    log: { level: status === "canceled" ? "info" : "warn", message: status },
  });
}

/** A status event carrying a log line. */
export function loggedStatusEvent(id: string, userId: string, seq: number, log: LogLine): StatusEvent {
  return StatusEvent.create({
    id,
    userId,
    seq,
    status: "processing",
    progress: 5 * seq,
    stage: "rendering",
    at: new Date(Date.now() + seq).toISOString(),
    workerId: "test-worker",
    attempt: 1,
    log,
  });
}
