import { describe, expect, test } from "bun:test";
import { DeadLetterEvent } from "../../shared/events/dead-letter-event.ts";
import type { EventDefinition } from "../../shared/events/define-event.ts";
import { CompleteEvent, FailedEvent, RequestEvent, StatusEvent } from "../../shared/events/events.ts";
import { newTraceparent, toKafkaMessage } from "../../shared/events/kafka-message.ts";
import { uuidv7 } from "../../shared/uuid7.ts";
import type { RawRecord } from "../../worker/kafka/topic-reader.ts";
import { check, type Evidence, watcherFault } from "./checker.ts";
import type { Submission, WatchLog } from "./load-driver.ts";

const TOPIC = "chaos.image.generation.requests";
const USER = "chaos-test-0";
const at = "2026-12-02T10:00:00.000Z";
const params = (n: number) => ({
  prompt: `chaos t #${n}`,
  style: "pixel-art" as const,
  width: 256,
  height: 256,
  format: "webp" as const,
  seed: n,
});
const image = (id: string) => ({
  key: `${id}.webp`,
  url: `http://127.0.0.1:1/images/${id}.webp`,
  width: 256,
  height: 256,
  format: "webp" as const,
  bytes: 100,
  sha256: "a".repeat(64),
});

/** A record as readTopic returns it: the message exactly as the producers write it. */
function record<T extends { v: 1; id: string }>(definition: EventDefinition<T>, event: T, topic: string): RawRecord {
  const m = toKafkaMessage(definition, event, newTraceparent());
  return { topic, partition: 0, offset: 0, timestamp: Date.parse(at), key: m.key, value: m.value };
}

function status(id: string, seq: number, s: "processing" | "completed" | "failed"): RawRecord {
  const terminal = s === "processing" ? {} : s === "completed" ? { image: image(id) } : {};
  return record(
    StatusEvent,
    StatusEvent.create({
      id,
      userId: USER,
      seq,
      status: s,
      progress: s === "processing" ? 50 : 100,
      stage: s === "processing" ? "rendering" : "done",
      at,
      workerId: "worker-1",
      attempt: 1,
      ...terminal,
    }),
    "status",
  );
}

/** One accepted generation that completed, as every source recorded it. */
function completed(n: number) {
  const id = uuidv7();
  const submission: Submission = {
    n,
    user: USER,
    idempotencyKey: `k-${n}`,
    prompt: params(n).prompt,
    submittedAt: 1000 + n,
    respondedAt: 1010 + n,
    status: 202,
    id,
    watch: {
      seqs: [0, 1, 2],
      connections: [{ after: null, openedAt: 1020 + n, closeCode: 1000 }],
      terminals: [{ type: "completed", seq: 2, at: 1200 + n }],
      imageUrl: image(id).url,
    },
  };
  const request = RequestEvent.create({ id, userId: USER, params: params(n), createdAt: at, attempt: 1 });
  const outcome = CompleteEvent.create({
    id,
    userId: USER,
    params: params(n),
    image: image(id),
    timings: { queuedMs: 1, generationMs: 100, totalMs: 101 },
    attempts: 1,
    completedAt: at,
  });
  return {
    submission,
    requests: [record(RequestEvent, request, TOPIC)],
    status: [status(id, 1, "processing"), status(id, 2, "completed")],
    complete: [record(CompleteEvent, outcome, "complete")],
  };
}

/** `generation`'s request as a worker parks it on the dead-letter topic. */
function parkedRequest(
  generation: ReturnType<typeof completed>,
  consumer: string,
  error: { code: string; message: string },
) {
  const id = generation.submission.id as string;
  const dead = DeadLetterEvent.create({
    id: uuidv7(),
    consumer,
    source: { kind: "kafka", topic: TOPIC, partition: 0, offset: "103" },
    error,
    keyBase64: Buffer.from(id).toString("base64"),
    valueBase64: Buffer.from(generation.requests[0]?.value ?? "").toString("base64"),
    deadLetteredAt: at,
  });
  return record(DeadLetterEvent, dead, "dead-letter");
}

function refused(n: number, code: number): Submission {
  return {
    n,
    user: USER,
    idempotencyKey: `k-${n}`,
    prompt: params(n).prompt,
    submittedAt: 1000 + n,
    respondedAt: 1010 + n,
    status: code,
  };
}

function evidence(generations: ReturnType<typeof completed>[], extra: Partial<Evidence> = {}): Evidence {
  const ids = generations.map((g) => g.submission.id as string);
  return {
    submissions: generations.map((g) => g.submission),
    requests: generations.flatMap((g) => g.requests),
    status: generations.flatMap((g) => g.status),
    complete: generations.flatMap((g) => g.complete),
    failed: [],
    deadLetters: [],
    requestTopic: TOPIC,
    api: new Map(ids.map((id) => [id, { code: 200, status: "completed" }])),
    images: new Map(ids.map((id) => [id, 200])),
    idempotencyLeft: new Set(),
    strayIds: new Map(),
    ...extra,
  };
}

describe("check", () => {
  test("every accepted generation ended once with its image, and a 503 left nothing: ok", () => {
    const gens = [completed(0), completed(1)];
    const e = evidence(gens);
    e.submissions.push(refused(2, 503));
    const verdict = check(e);
    expect(verdict).toMatchObject({ submitted: 3, accepted: 2, refused: { "503": 1 }, errors500: 0, ok: true });
  });

  test("an accepted id missing from the request topic is lost; a 404 from GET too", () => {
    const [a, b] = [completed(0), completed(1)];
    a.requests = [];
    const e = evidence([a, b]);
    e.api.set(b.submission.id as string, { code: 404 });
    expect(check(e).lost).toEqual([
      { id: a.submission.id as string, why: "not in the request topic" },
      { id: b.submission.id as string, why: "GET answers 404" },
    ]);
  });

  test("two outcome records, two terminal status events or two request records are duplicates", () => {
    const [a, b, c] = [completed(0), completed(1), completed(2)];
    a.complete.push(...a.complete);
    b.status.push(status(b.submission.id as string, 3, "completed"));
    c.requests.push(...c.requests);
    const verdict = check(evidence([a, b, c]));
    expect(verdict.duplicated).toEqual([
      {
        id: a.submission.id as string,
        what: `2 outcome records (complete@0:0 attempts 1 at ${at}; complete@0:0 attempts 1 at ${at})`,
      },
      { id: b.submission.id as string, what: "2 terminal status events" },
      { id: c.submission.id as string, what: "2 request records" },
    ]);
    expect(verdict.ok).toBe(false);
  });

  test("an accepted generation that never ended is stuck; one that ended without its outcome record or terminal status event is lost", () => {
    const [a, b, c] = [completed(0), completed(1), completed(2)];
    a.submission.watch = { seqs: [0, 1], connections: [{ after: null }], terminals: [] };
    b.complete = [];
    c.status = c.status.slice(0, 1);
    const e = evidence([a, b, c]);
    e.api.set(a.submission.id as string, { code: 200, status: "processing" });
    const verdict = check(e);
    expect(verdict.stuck).toEqual([a.submission.id as string]);
    expect(verdict.lost).toEqual([
      { id: b.submission.id as string, why: "completed without an outcome record" },
      { id: c.submission.id as string, why: "completed without a terminal status event" },
    ]);
    expect(verdict.ok).toBe(false);
  });

  test("a watcher that missed a message or saw one after the end fails the run", () => {
    const [a, b] = [completed(0), completed(1)];
    (a.submission.watch as WatchLog).seqs = [0, 2];
    (b.submission.watch as WatchLog).seqs = [0, 1, 2, 3];
    expect(check(evidence([a, b]))).toMatchObject({
      watcherFaults: [
        { id: a.submission.id, seqs: [0, 2], why: "seq 2 after 0" },
        { id: b.submission.id, seqs: [0, 1, 2, 3], why: "messages after the terminal one" },
      ],
      ok: false,
    });
  });

  test("a dead-lettered request is its outcome", () => {
    const a = completed(0);
    const id = a.submission.id as string;
    a.complete = [];
    a.submission.watch = {
      seqs: [0, 1],
      connections: [{ after: null }],
      terminals: [{ type: "failed", seq: 1, at: 1200 }],
    };
    const dead = parkedRequest(a, "workers", { code: "invalid_event", message: "bad" });
    const e = evidence([a], { deadLetters: [dead] });
    e.api.set(id, { code: 200, status: "failed" });
    expect(check(e)).toMatchObject({
      lost: [],
      duplicated: [],
      deadLetters: [`workers: invalid_event (${TOPIC}): bad`],
      ok: true,
    });
  });

  test("a request parked on the dead-letter topic although its generation completed is a second outcome", () => {
    // As the first full run saw it: a worker parked a request over a Kafka write refused during the broker outage.
    const a = completed(0);
    const id = a.submission.id as string;
    const dead = parkedRequest(a, "pixel-studio-workers", {
      code: "kafka_rejected",
      message: "Kafka write failed: Connection error: connect ECONNREFUSED",
    });
    const verdict = check(evidence([a], { deadLetters: [dead] }));
    expect(verdict.duplicated).toEqual([
      {
        id,
        what:
          `2 outcome records (complete@0:0 attempts 1 at ${at}; request parked on dead-letter: pixel-studio-workers: ` +
          `kafka_rejected (${TOPIC}): Kafka write failed: Connection error: connect ECONNREFUSED)`,
      },
    ]);
    expect(verdict.ok).toBe(false);
  });

  test("a failed generation's failed record is its outcome", () => {
    const a = completed(0);
    const id = a.submission.id as string;
    a.complete = [];
    a.submission.watch = { seqs: [3], connections: [{ after: null }], terminals: [{ type: "failed", seq: 3, at: 1 }] };
    const request = RequestEvent.create({ id, userId: USER, params: params(0), createdAt: at, attempt: 1 });
    const failed = FailedEvent.create({
      id,
      userId: USER,
      request,
      error: { code: "timeout", message: "too slow", retryable: true },
      attempts: 3,
      failedAt: at,
    });
    expect(check(evidence([a], { failed: [record(FailedEvent, failed, "failed")] })).ok).toBe(true);
  });

  test("a completed generation whose image cannot be fetched is reported", () => {
    const a = completed(0);
    const e = evidence([a]);
    e.images.set(a.submission.id as string, 404);
    expect(check(e).missingImages).toEqual([`${a.submission.id} (404)`]);
  });

  test("a refused submit acted on from the topic, found in Redis or in a user's list is a trace", () => {
    const a = completed(0);
    const e = evidence([a]);
    const ghost = uuidv7();
    e.submissions.push(refused(1, 503), refused(2, 503));
    e.requests.push(
      record(
        RequestEvent,
        RequestEvent.create({ id: ghost, userId: USER, params: params(1), createdAt: at, attempt: 1 }),
        TOPIC,
      ),
    );
    // Kafka took it after the edge gave up: alone that is allowed (its id is tombstoned)…
    expect(check(e).refusedTraces).toEqual([]);
    // …but not once a worker ran it.
    e.status.push(status(ghost, 1, "processing"));
    e.idempotencyLeft.add(2);
    e.strayIds.set(ghost, "a snapshot");
    expect(check(e).refusedTraces.map((t) => t.what)).toEqual([
      `refused submit #1 reached Kafka as ${ghost} and was acted on`,
      "refused submit #2 left its Idempotency-Key record",
      `${ghost} was never accepted but has a snapshot`,
    ]);
  });

  test("any 500 fails the run, to a submit or to a GET", () => {
    const e = evidence([completed(0), completed(1)]);
    e.submissions.push(refused(2, 500));
    expect(check(e)).toMatchObject({ errors500: 1, refused: { "500": 1 }, ok: false });
    e.api.set(e.submissions[1]?.id as string, { code: 500 });
    expect(check(e).errors500).toBe(2);
  });
});

describe("watcherFault", () => {
  const watch = (seqs: number[], terminals: number[]) => ({
    seqs,
    connections: [],
    terminals: terminals.map((seq) => ({ type: "completed", seq, at: 0 })),
  });
  test("gap-free and ending in the terminal message across a reconnection (after=<last seq>)", () => {
    expect(watcherFault(watch([2, 3, 4, 5], [5]))).toBeNull();
  });
  test("a gap, disorder, a second terminal or anything after it", () => {
    expect(watcherFault(watch([0, 1, 3], [3]))).toBe("seq 3 after 1");
    expect(watcherFault(watch([0, 2, 1, 2], [2]))).toBe("seq 2 after 0");
    expect(watcherFault(watch([0, 1, 2], [2, 2]))).toBe("2 terminal messages");
    expect(watcherFault(watch([0, 1, 2], [1]))).toBe("messages after the terminal one");
    expect(watcherFault(watch([0, 1], []))).toBe("no terminal message");
    expect(watcherFault(undefined)).toBe("never watched");
  });
});
