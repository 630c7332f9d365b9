/**
 * Seeded randomness for procedural images. The prompt is hashed into 64 bits and the seed is
 * kept whole in the generator state, so two different seeds can never share a stream for the
 * same prompt, and the same prompt + seed always replays the same numbers on any machine.
 */
import { ProgrammerError } from "../../../shared/errors.ts";
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  range(min: number, max: number): number;
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
}

/** Two independent 32-bit FNV-1a style hashes of the UTF-8 bytes, finalised like murmur3. */
export function hashText(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (const byte of new TextEncoder().encode(text)) {
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995) ^ (b >>> 15);
  }
  return [fmix(a), fmix(b ^ a)];
}

function fmix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's small fast counting generator): 128-bit state, good statistics. */
export function createRandom(prompt: string, seed: number): Random {
  const [h1, h2] = hashText(prompt);
  let a = h1;
  let b = h2;
  let c = seed >>> 0;
  let d = 1;
  const next32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard the first outputs: they still echo the raw state words.
  for (let i = 0; i < 16; i++) next32();

  const next = () => next32() / 4294967296;
  return {
    next,
    range: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new ProgrammerError("pick() needs at least one item");
      return item;
    },
    chance: (probability) => next() < probability,
  };
}
