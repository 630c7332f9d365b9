import { describe, expect, test } from "bun:test";
import type { GenerationParams } from "../../shared/events/params.ts";
import { FORMATS, STYLES, type Style } from "../../shared/job-states.ts";
import { PREVIEW_SIZE, rasterize, readImageInfo, THUMBNAIL_SIZE } from "../imaging/sharp-image.ts";
import { encodePreview, MAX_PREVIEW_BYTES } from "./preview.ts";
import { createProceduralProvider } from "./procedural-provider.ts";
import type { PreviewSource, ProviderStage } from "./provider.ts";

const provider = createProceduralProvider();
const base: GenerationParams = {
  prompt: "a lighthouse on a stormy ocean at night",
  style: "pixel-art",
  width: 384,
  height: 256,
  format: "webp",
  seed: 42,
};

function run(overrides: Partial<GenerationParams> = {}, signal = new AbortController().signal) {
  const stages: [ProviderStage, number][] = [];
  const result = provider.generate({
    params: { ...base, ...overrides },
    signal,
    onStage: (stage, progress) => stages.push([stage, progress]),
  });
  return { result, stages };
}

async function distinctColours(bytes: Uint8Array): Promise<number> {
  const info = await readImageInfo(bytes);
  const { data } = await rasterize({ encoded: bytes }, { width: info.width, height: info.height, fit: "fill" });
  const seen = new Set<number>();
  for (let i = 0; i < data.length; i += 3)
    seen.add(((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number));
  return seen.size;
}

describe("procedural provider", () => {
  test.each(STYLES.map((s) => [s]))("%s: the same params and seed give byte-identical output", async (style) => {
    const first = await run({ style }).result;
    const second = await run({ style }).result;
    expect(Buffer.compare(first.bytes, second.bytes)).toBe(0);
    expect(Buffer.compare(first.thumbnail.bytes, second.thumbnail.bytes)).toBe(0);
  });

  test.each(STYLES.map((s) => [s]))("%s: another seed or prompt gives another image", async (style) => {
    const reference = (await run({ style }).result).bytes;
    const otherSeed = (await run({ style, seed: 43 }).result).bytes;
    const otherPrompt = (await run({ style, prompt: "a lighthouse on a calm sea at noon" }).result).bytes;
    expect(Buffer.compare(reference, otherSeed)).not.toBe(0);
    expect(Buffer.compare(reference, otherPrompt)).not.toBe(0);
  });

  const combos = STYLES.flatMap((style) => FORMATS.map((format) => [style, format] as const));
  test.each(combos)("%s as %s decodes to the requested size and format", async (style, format) => {
    const image = await run({ style, format, width: 320, height: 448 }).result;
    expect(image).toMatchObject({ width: 320, height: 448, format });
    expect(await readImageInfo(image.bytes)).toEqual({ width: 320, height: 448, format });
    const thumb = await readImageInfo(image.thumbnail.bytes);
    expect(thumb.format).toBe("webp");
    expect(thumb.height).toBe(THUMBNAIL_SIZE);
    expect(thumb.width).toBe(Math.round((THUMBNAIL_SIZE * 320) / 448));
  });

  test("pixel art keeps to its small palette while the other styles blend colours", async () => {
    const counts: Record<string, number> = {};
    for (const style of STYLES)
      counts[style] = await distinctColours((await run({ style, format: "png" }).result).bytes);
    expect(counts["pixel-art"]).toBeLessThanOrEqual(6);
    for (const style of STYLES.filter((s): s is Exclude<Style, "pixel-art"> => s !== "pixel-art"))
      expect(counts[style]).toBeGreaterThan(50);
  });

  test("reports rendering, then encoding, with rising progress", async () => {
    const { result, stages } = run({ style: "noise" });
    await result;
    const names = stages.map(([stage]) => stage);
    expect(names[0]).toBe("rendering");
    expect(names.at(-1)).toBe("encoding");
    expect(names.indexOf("encoding")).toBeGreaterThan(names.lastIndexOf("rendering"));
    const progress = stages.map(([, p]) => p);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBe(progress.length);
  });

  test("emits one coarse preview while rendering, before encoding; it encodes to a WebP of a few KiB", async () => {
    const events: string[] = [];
    const previews: PreviewSource[] = [];
    const image = await provider.generate({
      params: { ...base, width: 1024, height: 768, style: "geometric" },
      signal: new AbortController().signal,
      onStage: (stage) => events.push(stage),
      onPreview: (source) => {
        events.push("preview");
        previews.push(source);
      },
    });
    expect(previews).toHaveLength(1);
    expect(events.indexOf("preview")).toBeLessThan(events.indexOf("encoding"));
    expect(events.indexOf("preview")).toBeGreaterThan(events.indexOf("rendering"));
    const [source] = previews;
    if (!source || !("pixels" in source)) throw new Error("expected raw pixels");
    expect(Math.max(source.pixels.width, source.pixels.height)).toBeLessThan(image.width);
    const preview = await encodePreview(source);
    expect(preview).toMatchObject({ format: "webp" });
    expect(Math.max(preview?.width ?? 0, preview?.height ?? 0)).toBeLessThanOrEqual(PREVIEW_SIZE);
    expect(Buffer.from(preview?.data ?? "", "base64").byteLength).toBeLessThanOrEqual(MAX_PREVIEW_BYTES);
    expect(await readImageInfo(Buffer.from(preview?.data ?? "", "base64"))).toMatchObject({ format: "webp" });
  });

  test("a preview is made small from a full-size partial image, and garbage makes none", async () => {
    const full = await run({ width: 1024, height: 1024, format: "png" }).result;
    const preview = await encodePreview({ encoded: full.bytes });
    expect(preview?.width).toBe(PREVIEW_SIZE);
    expect(Buffer.from(preview?.data ?? "", "base64").byteLength).toBeLessThanOrEqual(MAX_PREVIEW_BYTES);
    expect(await encodePreview({ encoded: new TextEncoder().encode("not an image") })).toBeNull();
  });

  test("an already-aborted signal stops it before any work, with the abort reason", async () => {
    const controller = new AbortController();
    const reason = new Error("canceled by user");
    controller.abort(reason);
    const { result, stages } = run({}, controller.signal);
    await expect(result).rejects.toBe(reason);
    expect(stages).toEqual([]);
  });

  test("an abort while rendering stops it before encoding", async () => {
    const controller = new AbortController();
    const reason = new Error("generation timed out");
    const stages: ProviderStage[] = [];
    const result = provider.generate({
      params: { ...base, width: 1024, height: 1024 },
      signal: controller.signal,
      onStage(stage) {
        stages.push(stage);
        if (stage === "rendering") controller.abort(reason);
      },
    });
    await expect(result).rejects.toBe(reason);
    expect(stages).not.toContain("encoding");
  });
});

test("renders started together take turns with the event loop: a timer runs between any two", async () => {
  const order: string[] = [];
  const tick = setInterval(() => order.push("tick"), 1);
  try {
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        provider.generate({
          params: { ...base, prompt: `turns ${i}`, style: "noise", width: 1024, height: 1024 },
          signal: new AbortController().signal,
          // 30: the synchronous render has just ended.
          onStage: (_stage, progress) => {
            if (progress === 30) order.push("render");
          },
        }),
      ),
    );
  } finally {
    clearInterval(tick);
  }
  expect(order.filter((e) => e === "render")).toHaveLength(4);
  expect(order.join(",")).not.toContain("render,render");
});

test("one big render hands the event loop turns while it draws, not only between renders", async () => {
  let ticks = 0;
  let ticksWhileDrawing = -1;
  const tick = setInterval(() => ticks++, 1);
  try {
    await provider.generate({
      params: { ...base, prompt: "one long render", style: "noise", width: 2048, height: 2048 },
      signal: new AbortController().signal,
      onStage: (_stage, progress) => {
        // 10: about to wait for its turn and draw; 30: the drawing has just ended.
        if (progress === 10) ticksWhileDrawing = -ticks;
        if (progress === 30) ticksWhileDrawing += ticks;
      },
    });
  } finally {
    clearInterval(tick);
  }
  // Drawn in one piece, a 1 ms timer gets at most the turn before the render starts.
  expect(ticksWhileDrawing).toBeGreaterThan(3);
});
