/**
 * The worker's two servers keep a silent connection open longer than Bun's default idle timeout
 * (10 s): a synchronous generation renders without sending anything, and an SSE stream is quiet
 * between keep-alives. With the default, both were cut (ECONNRESET) after 10–14 s.
 */
import { expect, test } from "bun:test";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { serveWithWebSockets } from "../ws/live-service.ts";
import { serveInternal } from "./internal-server.ts";

/** Longer than Bun's default idle timeout, which its timer checks every few seconds. */
const SILENCE_MS = 15_000;

test("a synchronous generation and an SSE stream outlast Bun's default idle timeout", async () => {
  const internalApp = new Hono().post("/internal/generations", async (c) => {
    await Bun.sleep(SILENCE_MS);
    return c.json({ status: "completed" });
  });
  const publicApp = new Hono().get("/events", (c) =>
    streamSSE(c, async (stream) => {
      await stream.writeSSE({ data: "first" });
      await Bun.sleep(SILENCE_MS);
      await stream.writeSSE({ data: "second" });
    }),
  );
  const internal = serveInternal(internalApp, { host: "127.0.0.1", port: 0 });
  const live = serveWithWebSockets(publicApp.fetch, { host: "127.0.0.1", port: 0 });
  try {
    const [generation, events] = await Promise.all([
      fetch(`http://127.0.0.1:${internal.port}/internal/generations`, { method: "POST" }).then((r) => r.json()),
      fetch(`http://127.0.0.1:${live.port}/events`).then((r) => r.text()),
    ]);
    expect(generation).toEqual({ status: "completed" });
    expect(events).toContain("data: first");
    expect(events).toContain("data: second");
  } finally {
    await Promise.all([internal.stop(true), live.stop(true)]);
  }
}, 60_000);
