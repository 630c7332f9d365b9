/**
 * A prompt's colours. Colour and mood words steer the hue, saturation and lightness, so
 * "deep ocean at night" reads blue and dark; otherwise the prompt's hash picks them. The
 * palette depends on the prompt only: seeds vary the composition, not the colour identity.
 */
import { createRandom } from "./random.ts";

export type Rgb = readonly [number, number, number];

/** Colours sorted from darkest to lightest, so index order can serve as a colour ramp. */
export type Palette = readonly Rgb[];

const HUES: Record<string, number> = {
  red: 0,
  fire: 8,
  rust: 15,
  sunset: 22,
  orange: 30,
  autumn: 32,
  amber: 42,
  gold: 48,
  desert: 40,
  sand: 45,
  yellow: 55,
  lime: 85,
  green: 120,
  forest: 130,
  jungle: 135,
  emerald: 145,
  mint: 155,
  teal: 175,
  cyan: 185,
  ice: 195,
  ocean: 200,
  sea: 200,
  sky: 205,
  blue: 220,
  navy: 228,
  indigo: 250,
  purple: 275,
  violet: 280,
  lavender: 270,
  magenta: 305,
  pink: 330,
  rose: 345,
  cherry: 350,
};

// Mood words shift [saturation, lightness] of the whole palette.
const MOODS: Record<string, readonly [number, number]> = {
  night: [-0.1, -0.22],
  dark: [-0.05, -0.2],
  space: [0, -0.2],
  noir: [-0.4, -0.15],
  pastel: [-0.15, 0.15],
  soft: [-0.2, 0.1],
  dream: [-0.05, 0.1],
  neon: [0.3, 0.05],
  vivid: [0.25, 0],
  bright: [0.1, 0.12],
  winter: [-0.25, 0.12],
  misty: [-0.25, 0.1],
};

const HARMONIES: readonly (readonly number[])[] = [
  [0, 30, -30], // analogous
  [0, 180, 20], // complementary
  [0, 120, 240], // triadic
  [0, 150, 210], // split complementary
  [0, 15, 35, 55], // warm run
];

export function paletteFor(prompt: string, size = 6): Palette {
  const words = prompt.toLowerCase().match(/[a-z]+/g) ?? [];
  const random = createRandom(prompt.toLowerCase(), 0x9a1e77e);
  const named = words.map((w) => HUES[w]).filter((h): h is number => h !== undefined);
  const baseHue = named[0] ?? random.range(0, 360);
  // Named colours lead; a single named hue keeps close company so the prompt's colour dominates.
  const harmony =
    named.length > 1
      ? [0, ...named.slice(1).map((h) => h - baseHue)]
      : random.pick(named.length ? HARMONIES.slice(0, 2) : HARMONIES);
  let saturation = random.range(0.55, 0.8);
  let lightShift = 0;
  for (const word of words) {
    const mood = MOODS[word];
    if (mood) {
      saturation += mood[0];
      lightShift += mood[1];
    }
  }
  saturation = clamp(saturation, 0.05, 1);

  const colours: Rgb[] = [];
  for (let i = 0; i < size; i++) {
    const hue = baseHue + (harmony[i % harmony.length] ?? 0) + random.range(-8, 8);
    const lightness = clamp(0.12 + (0.76 * i) / (size - 1) + lightShift + random.range(-0.04, 0.04), 0.04, 0.96);
    colours.push(hsl(hue, clamp(saturation + random.range(-0.1, 0.1), 0, 1), lightness));
  }
  return colours.sort((x, y) => luma(x) - luma(y));
}

export const luma = ([r, g, b]: Rgb) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

export const hex = ([r, g, b]: Rgb) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;

function hsl(hueDegrees: number, s: number, l: number): Rgb {
  const h = (((hueDegrees % 360) + 360) % 360) / 360;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number) => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    const v = u < 1 / 6 ? p + (q - p) * 6 * u : u < 1 / 2 ? q : u < 2 / 3 ? p + (q - p) * (2 / 3 - u) * 6 : p;
    return Math.round(v * 255);
  };
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)];
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
