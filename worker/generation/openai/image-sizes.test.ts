import { expect, test } from "bun:test";
import { closestSize, supportedSizes } from "./image-sizes.ts";

test.each([
  ["gpt-image-1", 1024, 1024, "1024x1024"],
  ["gpt-image-1", 1024, 768, "1536x1024"],
  ["gpt-image-1", 768, 1024, "1024x1536"],
  ["gpt-image-1", 2048, 1024, "1536x1024"],
  ["gpt-image-1-mini", 256, 256, "1024x1024"],
  ["dall-e-2", 512, 384, "512x512"],
  ["dall-e-2", 256, 256, "256x256"],
  ["dall-e-2", 2048, 2048, "1024x1024"],
  ["dall-e-3", 1792, 1024, "1792x1024"],
  ["dall-e-3", 1024, 2048, "1024x1792"],
  ["dall-e-3", 640, 640, "1024x1024"],
  ["stablediffusion", 768, 512, "768x512"],
])("%s for %ix%i asks for %s", (model, width, height, expected) => {
  expect(closestSize(model, width, height)).toBe(expected);
  const sizes = supportedSizes(model);
  if (sizes) expect(sizes).toContain(expected);
});
