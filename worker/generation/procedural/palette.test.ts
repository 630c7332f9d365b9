import { expect, test } from "bun:test";
import { luma, paletteFor, type Rgb } from "./palette.ts";

const mean = (palette: readonly Rgb[], channel: 0 | 1 | 2) =>
  palette.reduce((sum, colour) => sum + colour[channel], 0) / palette.length;

test("colour words steer the palette", () => {
  const ocean = paletteFor("a deep blue ocean");
  expect(mean(ocean, 2)).toBeGreaterThan(mean(ocean, 0));
  const fire = paletteFor("red fire");
  expect(mean(fire, 0)).toBeGreaterThan(mean(fire, 2));
});

test("mood words shift lightness", () => {
  const average = (p: readonly Rgb[]) => p.reduce((s, c) => s + luma(c), 0) / p.length;
  expect(average(paletteFor("blue night"))).toBeLessThan(average(paletteFor("blue pastel")));
});

test("palettes are ordered dark to light and depend on the prompt alone", () => {
  const palette = paletteFor("a lighthouse");
  const lumas = palette.map(luma);
  expect(lumas).toEqual([...lumas].sort((a, b) => a - b));
  expect(paletteFor("a lighthouse")).toEqual(palette);
  expect(paletteFor("a windmill")).not.toEqual(palette);
});
