import { describe, expect, test } from "bun:test";
import { HAS_NUL, NOT_UNICODE } from "../schema/schema.ts";
import { uuidv7 } from "../uuid7.ts";
import { CompleteEvent, FailedEvent, RequestEvent, StatusEvent } from "./events.ts";

const params = {
  prompt: "a red fox",
  style: "pixel-art",
  width: 1024,
  height: 1024,
  format: "webp",
  seed: 42,
} as const;
const request = () =>
  RequestEvent.create({ id: uuidv7(), userId: "user-1", params, createdAt: "2026-11-27T13:00:00.000Z", attempt: 1 });

describe("event schemas", () => {
  test("create builds a v1 event that decode parses back to the same value", () => {
    const event = request();
    expect(event.v).toBe(1);
    const decoded = RequestEvent.decode(RequestEvent.encode(event));
    expect(decoded).toEqual({ ok: true, value: event });
    expect(RequestEvent.decode(new TextEncoder().encode(RequestEvent.encode(event)))).toEqual({
      ok: true,
      value: event,
    });
  });

  test("create throws on invalid fields: a bug in our code, never sent", () => {
    expect(() => RequestEvent.create({ ...request(), id: "not-a-uuid" })).toThrow(
      "invalid request event: id must be a UUIDv7",
    );
  });

  const base = () => ({ ...request() }) as Record<string, unknown>;
  const withParams = (p: Record<string, unknown>) => ({ ...base(), params: { ...params, ...p } });
  test.each([
    ["v", { ...base(), v: 2 }, "v must be 1"],
    ["id", { ...base(), id: crypto.randomUUID() }, "id must be a UUIDv7"],
    ["userId", { ...base(), userId: "" }, "userId must not be empty"],
    ["createdAt", { ...base(), createdAt: "yesterday" }, "createdAt must be an ISO-8601 UTC timestamp"],
    ["attempt", { ...base(), attempt: 0 }, "attempt must be at least 1"],
    ["webhookUrl", { ...base(), webhookUrl: "ftp://x" }, "webhookUrl must use https: or http:"],
    ["unknown field", { ...base(), extra: 1 }, "extra is not a known field"],
    ["missing field", (({ userId, ...rest }) => rest)(base()), "userId is required"],
    ["prompt empty", withParams({ prompt: "   " }), "params.prompt must not be empty"],
    ["prompt lone surrogate", withParams({ prompt: "\ud800 fox" }), `params.prompt ${NOT_UNICODE}`],
    ["prompt NUL", withParams({ prompt: "a\u0000fox" }), `params.prompt ${HAS_NUL}`],
    ["userId lone surrogate", { ...base(), userId: "al\udc00ce" }, `userId ${NOT_UNICODE}`],
    ["webhookUrl lone surrogate", { ...base(), webhookUrl: "https://x.example/\ud800" }, `webhookUrl ${NOT_UNICODE}`],
    ["prompt too long", withParams({ prompt: "x".repeat(1001) }), "params.prompt must be at most 1000 characters"],
    ["style", withParams({ style: "oil" }), "params.style must be one of pixel-art, geometric, gradient, noise"],
    ["width multiple", withParams({ width: 1000 }), "params.width must be a multiple of 64"],
    ["width min", withParams({ width: 128 }), "params.width must be at least 256"],
    ["height max", withParams({ height: 4096 }), "params.height must be at most 2048"],
    ["height type", withParams({ height: "1024" }), "params.height must be an integer, got string"],
    ["format", withParams({ format: "gif" }), "params.format must be one of webp, png, jpeg, avif"],
    ["seed", withParams({ seed: 2 ** 32 }), "params.seed must be at most 4294967295"],
    ["seed negative", withParams({ seed: -1 }), "params.seed must be at least 0"],
  ])("request event rejects a bad %s", (_name, value, message) => {
    const result = RequestEvent.parse(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => `${i.path} ${i.message}`)).toContain(message);
  });

  test("decode refuses a lone surrogate escaped in the JSON text, as Redis's cjson would", () => {
    const text = RequestEvent.encode(request()).replace('"a red fox"', '"\\ud800 fox"');
    expect(text).toContain('"\\ud800 fox"');
    expect(RequestEvent.decode(text)).toEqual({ ok: false, issues: [{ path: "params.prompt", message: NOT_UNICODE }] });
    // A surrogate pair is one well-formed character and passes.
    expect(RequestEvent.decode(text.replace("\\ud800", "\\ud83e\\udd8a")).ok).toBe(true);
  });

  test("decode rejects bytes that are not JSON", () => {
    expect(RequestEvent.decode("{nope")).toEqual({ ok: false, issues: [{ path: "", message: "is not valid JSON" }] });
    expect(RequestEvent.decode(null).ok).toBe(false);
  });

  test("status, complete and failed events validate their own fields", () => {
    const req = request();
    const status = {
      id: req.id,
      userId: req.userId,
      seq: 1,
      status: "processing",
      progress: 40,
      stage: "rendering",
      at: "2026-11-27T13:00:01.000Z",
      workerId: "w-1",
      attempt: 1,
    } as const;
    expect(StatusEvent.create(status).seq).toBe(1);
    expect(StatusEvent.parse({ v: 1, ...status, seq: 0 }).ok).toBe(false);
    // The history's log lines store it as a 32-bit integer: a larger one is refused here, not there.
    expect(StatusEvent.parse({ v: 1, ...status, seq: 2_147_483_647 }).ok).toBe(true);
    expect(StatusEvent.parse({ v: 1, ...status, seq: 2_147_483_648 }).ok).toBe(false);
    expect(StatusEvent.parse({ v: 1, ...status, status: "running" }).ok).toBe(false);
    expect(StatusEvent.parse({ v: 1, ...status, progress: 101 }).ok).toBe(false);
    expect(StatusEvent.parse({ v: 1, ...status, stage: "painting" }).ok).toBe(false);

    const image = {
      key: "ab/cd.webp",
      url: "http://localhost:3001/images/ab/cd.webp",
      width: 1024,
      height: 1024,
      format: "webp",
      bytes: 100,
      sha256: "a".repeat(64),
    } as const;
    const complete = {
      id: req.id,
      userId: req.userId,
      params,
      image,
      timings: { queuedMs: 1, generationMs: 2, totalMs: 3 },
      attempts: 1,
      completedAt: "2026-11-27T13:00:02.000Z",
    };
    expect(CompleteEvent.create(complete).image.sha256).toBe("a".repeat(64));
    expect(CompleteEvent.parse({ v: 1, ...complete, image: { ...image, sha256: "xyz" } }).ok).toBe(false);

    const failed = {
      id: req.id,
      userId: req.userId,
      request: req,
      error: { code: "timeout", message: "took too long", retryable: false },
      attempts: 3,
      failedAt: "2026-11-27T13:00:02.000Z",
    } as const;
    expect(FailedEvent.create(failed).request).toEqual(req);
    expect(FailedEvent.parse({ v: 1, ...failed, error: { ...failed.error, code: "oops" } }).ok).toBe(false);
  });
});
