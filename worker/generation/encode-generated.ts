import type { ImageFormat } from "../../shared/job-states.ts";
import { encode, type Pixels, type Scaling, thumbnail } from "../imaging/sharp-image.ts";
import type { GeneratedImage, GenerationInput } from "./provider.ts";

/**
 * The last steps every provider shares: encode the final pixels to the requested format and
 * make the WebP thumbnail, reporting "encoding" and stopping between steps once aborted.
 */
export async function encodeGenerated(
  pixels: Pixels,
  format: ImageFormat,
  scaling: Scaling,
  { signal, onStage }: Pick<GenerationInput, "signal" | "onStage">,
): Promise<GeneratedImage> {
  signal.throwIfAborted();
  onStage("encoding", 70);
  const bytes = await encode(pixels, format);
  signal.throwIfAborted();
  onStage("encoding", 85);
  const preview = await thumbnail(pixels, scaling);
  signal.throwIfAborted();
  return { bytes, width: pixels.width, height: pixels.height, format, thumbnail: preview };
}
