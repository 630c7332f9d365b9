/**
 * Output sizes the OpenAI Images API accepts per model (REFERENCE.md §5). Servers that only
 * borrow the API shape (LocalAI and friends) take any WIDTHxHEIGHT, so unknown models get the
 * requested size as is.
 */
const GPT_IMAGE_SIZES = ["1024x1024", "1536x1024", "1024x1536"] as const;

const MODEL_SIZES: Record<string, readonly string[]> = {
  "dall-e-2": ["256x256", "512x512", "1024x1024"],
  "dall-e-3": ["1024x1024", "1792x1024", "1024x1792"],
};

export const isGptImageModel = (model: string) => model.startsWith("gpt-image-");
export const isDallEModel = (model: string) => model in MODEL_SIZES;

/** The sizes `model` accepts, or undefined when the model is not one of OpenAI's. */
export function supportedSizes(model: string): readonly string[] | undefined {
  return isGptImageModel(model) ? GPT_IMAGE_SIZES : MODEL_SIZES[model];
}

export function parseSize(size: string): { width: number; height: number } | undefined {
  const match = /^(\d+)x(\d+)$/.exec(size);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

/**
 * The supported size we resize from with the least distortion: the closest aspect ratio first
 * (we crop to the requested shape afterwards), then the smallest size that still covers the
 * request, or failing that the largest (upscaling as little as possible).
 */
export function closestSize(model: string, width: number, height: number): string {
  const sizes = supportedSizes(model);
  if (!sizes) return `${width}x${height}`;
  const wanted = Math.log(width / height);
  const ranked = sizes
    .map((size) => {
      const s = parseSize(size) ?? { width: 0, height: 0 };
      return {
        size,
        aspect: Math.abs(Math.log(s.width / s.height) - wanted),
        covers: s.width >= width && s.height >= height,
        area: s.width * s.height,
      };
    })
    .sort(
      (a, b) =>
        a.aspect - b.aspect || Number(b.covers) - Number(a.covers) || (a.covers ? a.area - b.area : b.area - a.area),
    );
  return ranked[0]?.size ?? `${width}x${height}`;
}
