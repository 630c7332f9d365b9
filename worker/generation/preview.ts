import { MAX_PREVIEW_BASE64, type Preview } from "../../shared/events/events.ts";
import { PREVIEW_SIZE, previewWebp } from "../imaging/sharp-image.ts";
import type { PreviewSource } from "./provider.ts";

/** Raw bytes whose base64 fits the status event's preview field. */
export const MAX_PREVIEW_BYTES = Math.floor((MAX_PREVIEW_BASE64 * 3) / 4);

/**
 * Turns what a provider shows mid-render into the preview a status event carries: a WebP of at
 * most 128 px (a few KiB), smaller still if the first try is too big, or null when it cannot be
 * made small enough or the bytes do not decode (a preview is never worth failing a generation).
 */
export async function encodePreview(source: PreviewSource): Promise<Preview | null> {
  for (const [side, quality] of [
    [PREVIEW_SIZE, 50],
    [PREVIEW_SIZE / 2, 35],
  ] as const) {
    let made: Awaited<ReturnType<typeof previewWebp>>;
    try {
      made = await previewWebp(source, side, quality);
    } catch {
      return null;
    }
    if (made.bytes.byteLength <= MAX_PREVIEW_BYTES)
      return {
        format: "webp",
        width: made.width,
        height: made.height,
        data: Buffer.from(made.bytes).toString("base64"),
      };
  }
  return null;
}

/**
 * The preview rule: at most one preview per `intervalMs`, encoded off the render, and none
 * started or sent once `stopped()` (the render is done or the run aborted, so a late preview
 * cannot take a seq after the outcome). Returns the provider's `onPreview`.
 */
export function throttledPreviews(options: {
  intervalMs: number;
  stopped(): boolean;
  send(preview: Preview): void;
}): (source: PreviewSource) => void {
  let lastAt = 0;
  return (source) => {
    const now = Date.now();
    if (options.stopped() || now - lastAt < options.intervalMs) return;
    lastAt = now;
    void encodePreview(source).then((preview) => {
      if (preview && !options.stopped()) options.send(preview);
    });
  };
}
