import { isRetryable, PipelineError } from "../../shared/errors.ts";
import type { RequestEvent } from "../../shared/events/events.ts";
import { GENERATION_ERROR_MESSAGES, type GenerationErrorCode, toGenerationErrorCode } from "../../shared/job-states.ts";
import type { Logger } from "../../shared/logger.ts";
import { type GenerationSnapshot, toPublicImage } from "../../shared/snapshot.ts";
import type { ImageStore } from "../images/image-store.ts";
import type { GenerationProvider } from "./provider.ts";
import { storeImage } from "./store-image.ts";

/**
 * The synchronous path behind ENABLE_KAFKA_IMAGE_GENERATION=false: generate while the caller
 * waits, with the same provider, store and timeout, but no queue and no live events.
 */
export async function generateNow(
  request: RequestEvent,
  deps: {
    provider: GenerationProvider;
    store: ImageStore;
    imageUrl(key: string): string;
    timeoutMs: number;
    logger: Logger;
  },
): Promise<GenerationSnapshot> {
  const startedAt = new Date().toISOString();
  const base = { id: request.id, params: request.params, createdAt: request.createdAt, startedAt, attempts: 1, seq: 0 };
  try {
    const image = await deps.provider.generate({
      params: request.params,
      signal: AbortSignal.timeout(deps.timeoutMs),
      onStage: () => {},
    });
    const stored = await storeImage(deps.store, image, deps.imageUrl);
    return {
      ...base,
      status: "completed",
      progress: 100,
      stage: "done",
      completedAt: new Date().toISOString(),
      image: toPublicImage(stored.image),
      thumbnail: toPublicImage(stored.thumbnail),
    };
  } catch (error) {
    const timedOut = (error as { name?: string }).name === "TimeoutError";
    const code: GenerationErrorCode = timedOut
      ? "timeout"
      : error instanceof PipelineError
        ? toGenerationErrorCode(error.code)
        : "internal";
    // Users see the code's fixed message; the error itself (hosts, paths, provider text) is logged.
    deps.logger.warn("synchronous generation failed", { generation: request.id, code, error });
    return {
      ...base,
      status: "failed",
      progress: 100,
      stage: "done",
      completedAt: new Date().toISOString(),
      error: { code, message: GENERATION_ERROR_MESSAGES[code], retryable: !timedOut && isRetryable(error) },
    };
  }
}
