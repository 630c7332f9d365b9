import type { ImageSource, Scaling } from "../../imaging/sharp-image.ts";
import type { Palette } from "./palette.ts";
import type { Random } from "./random.ts";

/** What a style draws: a source for sharp and how it should be scaled to the requested size. */
export interface Artwork {
  source: ImageSource;
  scaling: Scaling;
}

export interface StyleInput {
  width: number;
  height: number;
  random: Random;
  palette: Palette;
}

/**
 * Draws an artwork, yielding between rows (or shapes) so a caller can hand the event loop a turn
 * while a big render runs (procedural-provider.ts); the result is the generator's return value.
 */
export type StyleRenderer = (input: StyleInput) => Generator<void, Artwork, void>;
