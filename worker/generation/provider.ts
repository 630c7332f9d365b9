import type { GenerationParams } from "../../shared/events/params.ts";
import type { ImageFormat } from "../../shared/job-states.ts";
import type { Pixels, SizedImage } from "../imaging/sharp-image.ts";

/** Stages a provider reports while it works; the worker maps them onto status events. */
export type ProviderStage = "rendering" | "encoding";

export interface GenerationInput {
  params: GenerationParams;
  /** Aborted on timeout, cancel or shutdown; providers stop at the next opportunity. */
  signal: AbortSignal;
  /** `progress` is 0–100 within the whole generation. */
  onStage(stage: ProviderStage, progress: number): void;
  /**
   * A low-resolution look at the image while it renders, as raw pixels or an encoded image of
   * any size: the worker scales it down to a small WebP before it travels. Optional to call.
   */
  onPreview?(source: PreviewSource): void;
}

export type PreviewSource = { pixels: Pixels } | { encoded: Uint8Array };

export interface GeneratedImage {
  bytes: Uint8Array;
  width: number;
  height: number;
  format: ImageFormat;
  /** A small WebP preview (longest side 256 px) and its size. */
  thumbnail: SizedImage;
}

/**
 * Every image source behind one interface. Failures are PipelineErrors whose `retryable`
 * says whether another attempt can help (429/5xx yes, a content-policy refusal no).
 */
export interface GenerationProvider {
  readonly name: string;
  generate(input: GenerationInput): Promise<GeneratedImage>;
}
