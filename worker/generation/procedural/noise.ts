/**
 * Noise: domain-warped fractal value noise mapped through the palette as a colour ramp, giving
 * marbled, cloudy textures. Drawn at up to 1024 px on the long side and scaled up smoothly; the
 * texture has no detail finer than that, and it keeps 2048² renders fast.
 */
import type { Artwork, StyleInput } from "./artwork.ts";
import { fractal, valueNoise } from "./value-noise.ts";

const MAX_SIDE = 1024;

export function* renderNoise({ width, height, random, palette }: StyleInput): Generator<void, Artwork, void> {
  const shrink = Math.min(1, MAX_SIDE / Math.max(width, height));
  const w = Math.round(width * shrink);
  const h = Math.round(height * shrink);
  const base = fractal(valueNoise(random), random.int(4, 6), random.range(0.45, 0.6));
  const warp = fractal(valueNoise(random), 2);
  const features = random.range(3, 8) / Math.max(w, h);
  const warpStrength = random.range(0.5, 3);
  const contrast = random.range(1.2, 2.2);

  const ramp = palette.length - 1;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = x * features;
      const py = y * features;
      const qx = px + warpStrength * warp(px + 3.1, py + 7.7);
      const qy = py + warpStrength * warp(px + 11.3, py + 1.9);
      const v = Math.min(1, Math.max(0, (base(qx, qy) - 0.5) * contrast + 0.5));
      const position = v * ramp;
      const k = Math.min(ramp - 1, Math.floor(position));
      const f = position - k;
      const from = palette[k] ?? [0, 0, 0];
      const to = palette[k + 1] ?? from;
      const o = (y * w + x) * 3;
      data[o] = from[0] + (to[0] - from[0]) * f + 0.5;
      data[o + 1] = from[1] + (to[1] - from[1]) * f + 0.5;
      data[o + 2] = from[2] + (to[2] - from[2]) * f + 0.5;
    }
    yield;
  }
  return { source: { pixels: { data, width: w, height: h, channels: 3 } }, scaling: "smooth" };
}
