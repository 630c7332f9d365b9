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

export type StyleRenderer = (input: StyleInput) => Artwork;
