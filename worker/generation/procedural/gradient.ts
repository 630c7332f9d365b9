/**
 * Gradient: a multi-stop linear ramp at a random angle, bent by a gentle wave and lit by a
 * soft radial glow. Computed per pixel at full size with ordered dithering, so broad ramps do
 * not band in 8-bit output.
 */
import type { Artwork, StyleInput } from "./artwork.ts";
import type { Rgb } from "./palette.ts";

const LUT_SIZE = 1024;
// 4×4 Bayer matrix, centred on zero, in units of one 8-bit step.
const BAYER = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5].map((v) => (v + 0.5) / 16 - 0.5);

export function* renderGradient({ width, height, random, palette }: StyleInput): Generator<void, Artwork, void> {
  const stopCount = random.int(3, Math.min(5, palette.length));
  const order = palette.map((colour) => ({ colour, key: random.next() })).sort((a, b) => a.key - b.key);
  const stops = order.slice(0, stopCount).map((o) => o.colour);
  const ramp = rampTable(stops);

  const angle = random.range(0, Math.PI * 2);
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  const reach = (Math.abs(dx) * width + Math.abs(dy) * height) / 2;
  const waveAmp = random.range(0, 0.12);
  const waveFreq = (random.range(1, 3) * Math.PI * 2) / Math.max(width, height);
  const glow = { x: random.range(0.15, 0.85) * width, y: random.range(0.15, 0.85) * height };
  const glowRadius = random.range(0.25, 0.6) * Math.max(width, height);
  const glowStrength = random.range(0.15, 0.4);
  const glowColour = palette[palette.length - 1] ?? [255, 255, 255];

  const data = new Uint8Array(width * height * 3);
  const cx = width / 2;
  const cy = height / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const along = ((x - cx) * dx + (y - cy) * dy) / reach; // -1 … 1
      const across = -(x - cx) * dy + (y - cy) * dx;
      const t = Math.min(1, Math.max(0, (along + 1) / 2 + waveAmp * Math.sin(across * waveFreq)));
      const li = Math.round(t * (LUT_SIZE - 1)) * 3;
      const gx = x - glow.x;
      const gy = y - glow.y;
      const g = glowStrength * Math.exp(-(gx * gx + gy * gy) / (glowRadius * glowRadius));
      const dither = BAYER[(y & 3) * 4 + (x & 3)] as number;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const base = ramp[li + c] as number;
        data[o + c] = base + ((glowColour[c] as number) - base) * g + dither + 0.5;
      }
    }
    yield;
  }
  return { source: { pixels: { data, width, height, channels: 3 } }, scaling: "smooth" };
}

/** Evenly spaced stops interpolated into a LUT_SIZE × RGB table. */
function rampTable(stops: readonly Rgb[]): Float32Array {
  const table = new Float32Array(LUT_SIZE * 3);
  const segments = stops.length - 1;
  for (let i = 0; i < LUT_SIZE; i++) {
    const position = (i / (LUT_SIZE - 1)) * segments;
    const k = Math.min(segments - 1, Math.floor(position));
    const f = position - k;
    const from = stops[k] as Rgb;
    const to = stops[k + 1] as Rgb;
    // Smoothstep between stops avoids visible creases where segments join.
    const s = f * f * (3 - 2 * f);
    for (let c = 0; c < 3; c++) {
      const a = from[c] as number;
      table[i * 3 + c] = a + ((to[c] as number) - a) * s;
    }
  }
  return table;
}
