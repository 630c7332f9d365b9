import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { GenerationLogEntry } from "../../shared/history.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import type { PreviewMessage } from "../../shared/ws-messages.ts";
import { createOpenAICompatibleProvider } from "../generation/openai-compatible-provider.ts";
import { MAX_PREVIEW_BYTES } from "../generation/preview.ts";
import { PREVIEW_SIZE, readImageInfo } from "../imaging/sharp-image.ts";
import { type OpenAIImagesStandIn, startOpenAIImagesStandIn } from "../testing/openai-images-standin.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";
import { record, seqGaps } from "../testing/ws-client.ts";

async function submit(p: Pipeline, user: string) {
  const response = await p.submit(user, { prompt: "a harbour at dawn", width: 512, height: 384 });
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string; links: { events: string; logs: string } };
}

/** A preview as clients get it: a data: URL of a small WebP. */
async function checkPreview(message: PreviewMessage) {
  expect(message.preview.url).toStartWith("data:image/webp;base64,");
  const bytes = Buffer.from(message.preview.url.slice("data:image/webp;base64,".length), "base64");
  expect(bytes.byteLength).toBeLessThanOrEqual(MAX_PREVIEW_BYTES);
  const info = await readImageInfo(new Uint8Array(bytes));
  expect(info).toEqual({ width: message.preview.width, height: message.preview.height, format: "webp" });
  expect(Math.max(info.width, info.height)).toBeLessThanOrEqual(PREVIEW_SIZE);
}

describe("procedural provider", () => {
  const provider = scriptedProvider([]);
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ provider });
  });
  afterAll(() => p.stop());

  test("a preview reaches the WebSocket client while rendering, before the final image", async () => {
    // Held until the socket has its snapshot: the preview must arrive live, not inside a snapshot.
    provider.script.push({ kind: "gate", held: true });
    const calls = provider.calls;
    const g = await submit(p, "pia");
    const client = record(g.links.events);
    await client.until((m) => m.type === "snapshot");
    // A release before the provider waits at the gate would open a gate nobody waits at.
    while (provider.calls === calls) await Bun.sleep(10);
    provider.release();
    await client.until((m) => m.type === "preview");
    provider.release();
    const { code } = await client.closed;
    expect(code).toBe(1000);
    const types = client.messages.map((m) => m.type);
    expect(types).toContain("preview");
    expect(types.indexOf("preview")).toBeLessThan(types.indexOf("completed"));
    expect(seqGaps(client.messages)).toEqual([]);
    await checkPreview(client.messages.find((m) => m.type === "preview") as PreviewMessage);
    const completed = client.messages.at(-1);
    expect(completed).toMatchObject({ type: "completed", thumbnail: { format: "webp", width: 256, height: 192 } });
    const done = (await (await p.api(`/api/generations/${g.id}`, { user: "pia" })).json()) as GenerationSnapshot;
    expect(done.preview).toBeUndefined();
    expect(done.thumbnail).toEqual((completed as { thumbnail: unknown }).thumbnail as GenerationSnapshot["thumbnail"]);
  });

  test("the log tells each attempt, the retry with its error code, the worker and the timings", async () => {
    provider.script.push({ kind: "transient" }, { kind: "ok" });
    const g = await submit(p, "lou");
    await p.waitFor("lou", g.id);
    const { entries } = (await (await p.api(g.links.logs, { user: "lou" })).json()) as {
      entries: GenerationLogEntry[];
    };
    const lines = entries.map((e) => [e.attempt, e.level, e.message.replace(/\d+ (ms|bytes)/g, "N $1")]);
    expect(lines[0]).toEqual([1, "info", "attempt 1 of 3 started"]);
    // The user reads the code and its fixed message; the provider's own words stay in the worker's log.
    expect(lines[1]).toEqual([
      1,
      "warn",
      "attempt 1 failed: provider_unavailable: The image provider is unavailable; try again later; retrying in N ms",
    ]);
    expect(entries.some((e) => e.message.includes("model busy"))).toBe(false);
    expect(lines[2]).toEqual([2, "info", "attempt 2 of 3 started"]);
    expect(lines.map((l) => l[2])).toEqual(expect.arrayContaining(["rendering", "encoding", "storing"]));
    expect(String(lines.at(-1)?.[2])).toMatch(
      /^completed: 512×384 webp, N bytes; generation N ms, queued N ms, total N ms$/,
    );
    expect(entries.every((e) => e.worker === "test-worker-0" && !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });
});

describe("OpenAI-compatible provider streaming partial images", () => {
  let model: OpenAIImagesStandIn;
  let p: Pipeline;
  beforeAll(async () => {
    // A model that takes a while and streams two partial images on the way.
    model = startOpenAIImagesStandIn({ apiKey: "sk-test-partials-0001", latencyMs: 1500 });
    const provider = createOpenAICompatibleProvider({
      baseUrl: model.url,
      apiKey: "sk-test-partials-0001",
      model: "gpt-image-1",
      partialImages: 2,
    });
    p = await startPipeline({ provider });
  });
  afterAll(async () => {
    await p.stop();
    await model.close();
  });

  test("each partial image reaches WebSocket and SSE clients as a preview before the final image", async () => {
    const g = await submit(p, "oli");
    const client = record(g.links.events);
    const sse = fetch(g.links.events.replace("ws://", "http://").replace("/ws/", "/events/")).then((r) => r.text());
    let seenInSnapshot = false;
    for (;;) {
      const now = (await (await p.api(`/api/generations/${g.id}`, { user: "oli" })).json()) as GenerationSnapshot;
      if (now.status === "processing" && now.preview) seenInSnapshot = true;
      if (now.status === "completed") break;
      await Bun.sleep(50);
    }
    await client.closed;
    const previews = client.messages.filter((m): m is PreviewMessage => m.type === "preview");
    expect(previews).toHaveLength(2);
    for (const preview of previews) await checkPreview(preview);
    const types = client.messages.map((m) => m.type);
    expect(types.lastIndexOf("preview")).toBeLessThan(types.indexOf("completed"));
    expect(seenInSnapshot).toBe(true);
    const events = [...(await sse).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(
      events.filter((e) => e === "preview").length + events.filter((e) => e === "snapshot").length,
    ).toBeGreaterThan(0);
    expect(events.at(-1)).toBe("completed");
  });
});
