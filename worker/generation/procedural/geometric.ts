/**
 * Geometric: flat shapes (discs, rings, rotated squares, triangles, bars) over a two-colour
 * background, written as SVG and rasterised by sharp at the requested size, so edges stay sharp
 * at any resolution.
 */
import type { Artwork, StyleInput } from "./artwork.ts";
import { hex } from "./palette.ts";
import type { Random } from "./random.ts";

type Shape = (x: number, y: number, size: number, fill: string, random: Random) => string;

const n = (value: number) => value.toFixed(1);

const SHAPES: readonly Shape[] = [
  (x, y, s, fill) => `<circle cx="${n(x)}" cy="${n(y)}" r="${n(s / 2)}" fill="${fill}"/>`,
  (x, y, s, fill) =>
    `<circle cx="${n(x)}" cy="${n(y)}" r="${n(s / 2)}" fill="none" stroke="${fill}" stroke-width="${n(s / 8)}"/>`,
  (x, y, s, fill, random) =>
    `<rect x="${n(x - s / 2)}" y="${n(y - s / 2)}" width="${n(s)}" height="${n(s)}" fill="${fill}" ` +
    `transform="rotate(${random.int(0, 89)} ${n(x)} ${n(y)})"/>`,
  (x, y, s, fill, random) => {
    const turn = random.range(0, Math.PI * 2);
    const points = [0, 1, 2].map((k) => {
      const a = turn + (k * Math.PI * 2) / 3;
      return `${n(x + Math.cos(a) * s * 0.6)},${n(y + Math.sin(a) * s * 0.6)}`;
    });
    return `<polygon points="${points.join(" ")}" fill="${fill}"/>`;
  },
  (x, y, s, fill, random) =>
    `<rect x="${n(x - s)}" y="${n(y - s / 10)}" width="${n(s * 2)}" height="${n(s / 5)}" rx="${n(s / 10)}" ` +
    `fill="${fill}" transform="rotate(${random.pick([0, 45, 90, 135])} ${n(x)} ${n(y)})"/>`,
];

export function* renderGeometric({ width, height, random, palette }: StyleInput): Generator<void, Artwork, void> {
  const colours = palette.map(hex);
  const background = [random.pick(colours.slice(0, 2)), random.pick(colours.slice(1, 3))];
  const angle = random.int(0, 359);
  const unit = Math.min(width, height);
  const count = random.int(14, 36);
  const kinds = SHAPES.filter(() => random.chance(0.7));
  const usable = kinds.length ? kinds : SHAPES;
  const grid = random.chance(0.4) ? random.int(3, 6) : 0;

  const shapes: string[] = [];
  for (let i = 0; i < count; i++) {
    // Later shapes are smaller, so big forms sit behind details.
    const size = unit * random.range(0.06, 0.4) * (1 - (0.6 * i) / count);
    const [x, y] = grid
      ? [((random.int(0, grid - 1) + 0.5) * width) / grid, ((random.int(0, grid - 1) + 0.5) * height) / grid]
      : [random.range(0, width), random.range(0, height)];
    const fill = random.pick(colours.slice(2));
    const opacity = random.range(0.55, 0.95).toFixed(2);
    const shape = random.pick(usable)(x, y, size, fill, random);
    shapes.push(`<g opacity="${opacity}">${shape}</g>`);
    yield;
  }

  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<defs><linearGradient id="bg" gradientTransform="rotate(${angle} 0.5 0.5)">` +
    `<stop offset="0" stop-color="${background[0]}"/><stop offset="1" stop-color="${background[1]}"/>` +
    `</linearGradient></defs><rect width="${width}" height="${height}" fill="url(#bg)"/>${shapes.join("")}</svg>`;
  return { source: { svg }, scaling: "smooth" };
}
