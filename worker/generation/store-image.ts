import type { ImageRef } from "../../shared/events/events.ts";
import type { ImageStore } from "../images/image-store.ts";
import type { GeneratedImage } from "./provider.ts";

export interface StoredGeneration {
  image: ImageRef;
  thumbnail: ImageRef;
}

/**
 * Stores a generated image and its thumbnail beside it (both content-addressed) and describes
 * them as the complete event's `image` and `thumbnail` fields.
 */
export async function storeImage(
  store: ImageStore,
  generated: GeneratedImage,
  imageUrl: (key: string) => string,
): Promise<StoredGeneration> {
  const [image, thumbnail] = await Promise.all([
    store.put(generated.bytes, generated.format),
    store.put(generated.thumbnail.bytes, "webp"),
  ]);
  return {
    image: {
      key: image.key,
      url: imageUrl(image.key),
      width: generated.width,
      height: generated.height,
      format: generated.format,
      bytes: image.bytes,
      sha256: image.sha256,
    },
    thumbnail: {
      key: thumbnail.key,
      url: imageUrl(thumbnail.key),
      width: generated.thumbnail.width,
      height: generated.thumbnail.height,
      format: "webp",
      bytes: thumbnail.bytes,
      sha256: thumbnail.sha256,
    },
  };
}
