/**
 * Pixel art: a coarse grid of palette cells scaled up with nearest-neighbour so every cell
 * stays a crisp square. Either a mirrored emblem (sprite-like) or a banded landscape, with a
 * dark outline wherever two colours meet.
 */
import type { Artwork, StyleInput } from "./artwork.ts";
import { fractal, valueNoise } from "./value-noise.ts";

// Cell sizes divide every allowed width and height (multiples of 64).
const CELL_SIZES = [4, 8, 16, 32, 64];

export function* renderPixelArt({ width, height, random, palette }: StyleInput): Generator<void, Artwork, void> {
  const shortSide = Math.min(width, height);
  const cell = random.pick(CELL_SIZES.filter((c) => shortSide / c >= 12 && shortSide / c <= 48));
  const cols = width / cell;
  const rows = height / cell;
  const mirrored = random.chance(0.5);
  const noise = fractal(valueNoise(random), 3);
  const scale = random.range(4, 9) / Math.min(cols, rows);
  const colours = palette.length - 1; // the darkest colour is kept for outlines

  const index = new Uint8Array(cols * rows);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const nx = mirrored ? Math.min(x, cols - 1 - x) : x;
      let v = noise(nx * scale, y * scale);
      if (mirrored) {
        // Fade to the background towards the edges so the emblem floats in the middle.
        const dx = (x + 0.5) / cols - 0.5;
        const dy = (y + 0.5) / rows - 0.5;
        v = v * 1.6 - Math.hypot(dx, dy) * 1.8;
      } else {
        // Sky above, ground below: lighter bands towards the top.
        v = v * 0.7 + (1 - y / rows) * 0.5;
      }
      index[y * cols + x] = 1 + Math.min(colours - 1, Math.max(0, Math.floor(v * colours)));
    }
    yield;
  }

  const data = new Uint8Array(cols * rows * 3);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const i = y * cols + x;
      const here = index[i] as number;
      const edge =
        (x + 1 < cols && (index[i + 1] as number) < here) || (y + 1 < rows && (index[i + cols] as number) < here);
      const [r, g, b] = palette[edge && here > 1 ? 0 : here] ?? [0, 0, 0];
      data[i * 3] = r;
      data[i * 3 + 1] = g;
      data[i * 3 + 2] = b;
    }
  }
  return { source: { pixels: { data, width: cols, height: rows, channels: 3 } }, scaling: "pixelated" };
}
