import { FORMATS, STYLES } from "../job-states.ts";
import { type Infer, integer, object, oneOf, string } from "../schema/schema.ts";

/** Field rules of docs/api.md's submit table; the edge adds defaults on top of these. */
export const paramRules = {
  prompt: string({ trim: true, min: 1, max: 1000 }),
  style: oneOf(STYLES),
  width: integer({ min: 256, max: 2048, multipleOf: 64 }),
  height: integer({ min: 256, max: 2048, multipleOf: 64 }),
  format: oneOf(FORMATS),
  seed: integer({ min: 0, max: 4294967295 }),
};

export const generationParams = object(paramRules);
export type GenerationParams = Infer<typeof generationParams>;
