import { describe, expect, test } from "bun:test";
import { FORMATS } from "../../shared/job-states.ts";
import { encode, type Pixels, rasterize, readImageInfo, THUMBNAIL_SIZE, thumbnail } from "./sharp-image.ts";

/** A 2×2 checkerboard of pure red and blue. */
const checker: Pixels = {
  data: new Uint8Array([255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0]),
  width: 2,
  height: 2,
  channels: 3,
};

const colours = (pixels: Pixels) => {
  const seen = new Set<string>();
  for (let i = 0; i < pixels.data.length; i += 3) seen.add(pixels.data.slice(i, i + 3).join(","));
  return seen;
};

describe("rasterize", () => {
  test("pixelated scaling keeps hard edges, smooth scaling blends", async () => {
    const blocky = await rasterize({ pixels: checker }, { width: 64, height: 64, fit: "fill", scaling: "pixelated" });
    expect({ width: blocky.width, height: blocky.height, channels: blocky.channels }).toEqual({
      width: 64,
      height: 64,
      channels: 3,
    });
    expect(colours(blocky)).toEqual(new Set(["255,0,0", "0,0,255"]));
    const smooth = await rasterize({ pixels: checker }, { width: 64, height: 64, fit: "fill" });
    expect(colours(smooth).size).toBeGreaterThan(2);
  });

  test("cover keeps the aspect ratio by cropping; fill stretches", async () => {
    // Four 1-pixel columns, red, green, blue, white, two rows high.
    const row = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
    const columns: Pixels = { data: new Uint8Array([...row, ...row]), width: 4, height: 2, channels: 3 };
    const target = { width: 64, height: 64, scaling: "pixelated" } as const;
    const cover = await rasterize({ pixels: columns }, { ...target, fit: "cover" });
    const fill = await rasterize({ pixels: columns }, { ...target, fit: "fill" });
    const at = (p: Pixels, x: number) => [...p.data.slice((32 * p.width + x) * 3, (32 * p.width + x) * 3 + 3)];
    // Fill shows all four columns, 16 px each.
    expect([at(fill, 8), at(fill, 24), at(fill, 40), at(fill, 56)]).toEqual([
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [255, 255, 255],
    ]);
    // Cover scales to 128×64 and keeps the middle: green and blue, 32 px each.
    expect([at(cover, 8), at(cover, 56)]).toEqual([
      [0, 255, 0],
      [0, 0, 255],
    ]);
  });

  test("renders SVG at the requested size and flattens transparency onto black", async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="10" fill="#00ff00"/></svg>`;
    const pixels = await rasterize({ svg }, { width: 100, height: 100, fit: "fill", scaling: "pixelated" });
    expect(pixels.channels).toBe(3);
    expect([...pixels.data.slice(0, 3)]).toEqual([0, 255, 0]);
    expect([...pixels.data.slice(99 * 3, 100 * 3)]).toEqual([0, 0, 0]);
  });

  test("refuses bytes that are not an image", async () => {
    await expect(
      rasterize({ encoded: new TextEncoder().encode("nope") }, { width: 8, height: 8, fit: "fill" }),
    ).rejects.toThrow();
    await expect(readImageInfo(new TextEncoder().encode("nope"))).rejects.toThrow();
  });
});

describe("encode and thumbnail", async () => {
  const picture = await rasterize(
    {
      svg: `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="6"><circle cx="4" cy="3" r="3" fill="#c33"/></svg>`,
    },
    { width: 640, height: 384, fit: "fill" },
  );

  test.each(FORMATS.map((f) => [f]))(
    "%s encodes deterministically and reads back with its size and format",
    async (format) => {
      const first = await encode(picture, format);
      const second = await encode(picture, format);
      expect(Buffer.compare(first, second)).toBe(0);
      expect(await readImageInfo(first)).toEqual({ width: 640, height: 384, format });
    },
  );

  test("thumbnails are WebP with the longest side at 256 px, and say the size they decode to", async () => {
    const landscape = await thumbnail(picture);
    expect(await readImageInfo(landscape.bytes)).toEqual({ width: THUMBNAIL_SIZE, height: 154, format: "webp" });
    expect([landscape.width, landscape.height]).toEqual([THUMBNAIL_SIZE, 154]);
    const portrait = await thumbnail(await rasterize({ pixels: checker }, { width: 256, height: 512, fit: "fill" }));
    expect(await readImageInfo(portrait.bytes)).toEqual({ width: 128, height: THUMBNAIL_SIZE, format: "webp" });
    expect([portrait.width, portrait.height]).toEqual([128, THUMBNAIL_SIZE]);
  });
});
