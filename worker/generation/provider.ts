import type { GenerationParams } from "../../shared/events/params.ts";
import type { ImageFormat } from "../../shared/job-states.ts";

/** Stages a provider reports while it works; the worker maps them onto status events. */
export type ProviderStage = "rendering" | "encoding";

export interface GenerationInput {
  params: GenerationParams;
  /** Aborted on timeout, cancel or shutdown; providers stop at the next opportunity. */
  signal: AbortSignal;
  /** `progress` is 0–100 within the whole generation. */
  onStage(stage: ProviderStage, progress: number): void;
}

export interface GeneratedImage {
  bytes: Uint8Array;
  width: number;
  height: number;
  format: ImageFormat;
  /** A small WebP preview (longest side 256 px). */
  thumbnail: Uint8Array;
}

/**
 * Every image source behind one interface. Failures are PipelineErrors whose `retryable`
 * says whether another attempt can help (429/5xx yes, a content-policy refusal no).
 */
export interface GenerationProvider {
  readonly name: string;
  generate(input: GenerationInput): Promise<GeneratedImage>;
}
