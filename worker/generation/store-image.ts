import type { ImageStore } from "../images/image-store.ts";
import type { GeneratedImage } from "./provider.ts";

/** Stores a generated image and describes it as the complete event's `image` field. */
export async function storeImage(store: ImageStore, image: GeneratedImage, imageUrl: (key: string) => string) {
  const stored = await store.put(image.bytes, image.format);
  return {
    key: stored.key,
    url: imageUrl(stored.key),
    width: image.width,
    height: image.height,
    format: image.format,
    bytes: stored.bytes,
    sha256: stored.sha256,
  };
}
