import { describe, expect, test } from "bun:test";
import { advance, describeState, describeTimings, type GenerationView } from "./generation-view.ts";

const ID = "019ad000-0000-7000-8000-000000000001";
const queued: GenerationView = {
  id: ID,
  status: "queued",
  progress: 0,
  stage: "queued",
  attempts: 0,
  params: { prompt: "fox", style: "noise", width: 256, height: 256, format: "webp", seed: 1 },
  createdAt: "2026-12-01T10:00:00.000Z",
  queuePosition: 2,
  seq: 1,
};
const at = "2026-12-01T10:00:03.000Z";
const preview = { url: "data:image/webp;base64,AAAA", width: 32, height: 32 };
const image = { url: "http://images/ab/cd.webp", width: 256, height: 256, format: "webp" as const, bytes: 10 };

describe("a tile's view follows the live messages", () => {
  test("queued with its position, then running: the position goes, the start time comes", () => {
    expect(describeState(queued)).toBe("Queued · 2 requests ahead");
    expect(describeState({ ...queued, queuePosition: 1 })).toBe("Queued · 1 request ahead");
    expect(describeState({ ...queued, queuePosition: 0 })).toBe("Queued · next to start");
    const running = advance(queued, {
      type: "status",
      id: ID,
      seq: 2,
      status: "processing",
      progress: 10,
      stage: "started",
      at,
    });
    expect(running.queuePosition).toBeUndefined();
    expect(running.startedAt).toBe(at);
    expect(describeState(running)).toBe("Processing · started · 10%");
    expect(describeTimings(running, Date.parse(at) + 2500)).toBe("Running for 2.5 s");
    expect(describeTimings(queued, Date.parse(queued.createdAt) + 1000)).toBe("Waiting for 1.0 s");
  });

  test("a preview shows while rendering and gives way to the image and its timings", () => {
    const rendering = advance(queued, {
      type: "preview",
      id: ID,
      seq: 3,
      preview,
      progress: 40,
      stage: "rendering",
      at,
    });
    expect(rendering.preview).toEqual(preview);
    const done = advance(rendering, {
      type: "completed",
      id: ID,
      seq: 4,
      image,
      thumbnail: image,
      timings: { queuedMs: 200, generationMs: 1500, totalMs: 1700 },
    });
    expect(done).toMatchObject({ status: "completed", progress: 100, image, thumbnail: image });
    expect(done.preview).toBeUndefined();
    expect(describeTimings(done, 0)).toBe("Waited 0.2 s · made in 1.5 s · total 1.7 s");
  });

  test("a message older than the view, or after the end, changes nothing; a newer snapshot replaces it", () => {
    const running = advance(queued, {
      type: "status",
      id: ID,
      seq: 5,
      status: "processing",
      progress: 50,
      stage: "rendering",
      at,
    });
    expect(
      advance(running, { type: "status", id: ID, seq: 4, status: "processing", progress: 20, stage: "started", at }),
    ).toBe(running);
    const failed = advance(running, {
      type: "failed",
      id: ID,
      seq: 6,
      attempts: 3,
      error: { code: "timeout", message: "The generation took longer than allowed", retryable: true },
    });
    expect(describeState(failed)).toBe("Failed: The generation took longer than allowed");
    expect(advance(failed, { type: "preview", id: ID, seq: 7, preview, progress: 60, stage: "rendering", at })).toBe(
      failed,
    );
    expect(describeTimings(failed, 0)).toBe("");
    const { type: _type, ...snapshot } = { type: "snapshot" as const, ...failed, seq: 9 };
    expect(advance(failed, { type: "snapshot", ...snapshot })).toEqual(snapshot);
  });
});
