/**
 * Seeded 2-D value noise with fractal octaves: cheap, smooth and fully determined by the
 * Random it is built from (a shuffled lattice of 256 values, no global state).
 */
import type { Random } from "./random.ts";

export type Noise2D = (x: number, y: number) => number;

/** Smooth noise in [0, 1] whose features are about one unit apart. */
export function valueNoise(random: Random): Noise2D {
  const perm = new Uint8Array(512);
  const values = new Float32Array(256);
  const order = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 255; i > 0; i--) {
    const j = random.int(0, i);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  for (let i = 0; i < 512; i++) perm[i] = order[i & 255] as number;
  for (let i = 0; i < 256; i++) values[i] = random.next();

  const at = (xi: number, yi: number) => values[perm[(perm[xi & 255] as number) + (yi & 255)] as number] as number;
  return (x, y) => {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const sx = fx * fx * (3 - 2 * fx);
    const sy = fy * fy * (3 - 2 * fy);
    const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * sx;
    const bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * sx;
    return top + (bottom - top) * sy;
  };
}

/** Octaves of `noise`, each twice the frequency and `gain` times the weight; result in [0, 1]. */
export function fractal(noise: Noise2D, octaves: number, gain = 0.5): Noise2D {
  let norm = 0;
  for (let o = 0, w = 1; o < octaves; o++, w *= gain) norm += w;
  return (x, y) => {
    let sum = 0;
    let weight = 1;
    let frequency = 1;
    for (let o = 0; o < octaves; o++) {
      // Offsetting each octave hides the lattice alignment at the origin.
      sum += weight * noise(x * frequency + o * 17.31, y * frequency + o * 9.77);
      weight *= gain;
      frequency *= 2;
    }
    return sum / norm;
  };
}
