import type { RequestEvent } from "../../shared/events/events.ts";
import { toGenerationErrorCode } from "../../shared/job-states.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import type { ImageStore } from "../images/image-store.ts";
import type { GenerationProvider } from "./provider.ts";
import { storeImage } from "./store-image.ts";

/**
 * The synchronous path behind ENABLE_KAFKA_IMAGE_GENERATION=false: generate while the caller
 * waits, with the same provider, store and timeout, but no queue and no live events.
 */
export async function generateNow(
  request: RequestEvent,
  deps: { provider: GenerationProvider; store: ImageStore; imageUrl(key: string): string; timeoutMs: number },
): Promise<GenerationSnapshot> {
  const startedAt = new Date().toISOString();
  const base = { id: request.id, params: request.params, createdAt: request.createdAt, startedAt, attempts: 1, seq: 0 };
  try {
    const image = await deps.provider.generate({
      params: request.params,
      signal: AbortSignal.timeout(deps.timeoutMs),
      onStage: () => {},
    });
    const { url, width, height, format, bytes } = await storeImage(deps.store, image, deps.imageUrl);
    return {
      ...base,
      status: "completed",
      progress: 100,
      stage: "done",
      completedAt: new Date().toISOString(),
      image: { url, width, height, format, bytes },
    };
  } catch (error) {
    const e = error as { code?: string; message?: string; retryable?: boolean; name?: string };
    const timedOut = e.name === "TimeoutError";
    return {
      ...base,
      status: "failed",
      progress: 100,
      stage: "done",
      completedAt: new Date().toISOString(),
      error: {
        code: timedOut ? "timeout" : toGenerationErrorCode(e.code),
        message: timedOut ? `generation exceeded ${deps.timeoutMs} ms` : (e.message ?? "generation failed"),
        retryable: Boolean(e.retryable),
      },
    };
  }
}
