/**
 * Images from an OpenAI-compatible `POST /images/generations` (OpenAI itself, LocalAI, LiteLLM,
 * …). The answer is resized and re-encoded locally, so clients always get the size and format
 * they asked for whatever the model can produce. GPT image models stream (`stream: true`,
 * `partial_images`): each `image_generation.partial_image` event becomes a preview, and the
 * `image_generation.completed` event carries the image. A server that ignores `stream` and
 * answers JSON is read the plain way.
 */
import { PipelineError } from "../../shared/errors.ts";
import { type Pixels, rasterize } from "../imaging/sharp-image.ts";
import { encodeGenerated } from "./encode-generated.ts";
import { closestSize, isDallEModel, isGptImageModel } from "./openai/image-sizes.ts";
import { errorFromResponse } from "./openai/provider-errors.ts";
import { readSseEvents, SseTooLarge } from "./openai/sse-events.ts";
import type { GenerationInput, GenerationProvider } from "./provider.ts";

export interface OpenAICompatibleOptions {
  /** Ends in `/v1`, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as a Bearer token; servers without auth (a local LocalAI) take an empty key. */
  apiKey: string;
  model: string;
  /** Partial images to stream as previews (0–3; GPT image models only; 0 does not stream). */
  partialImages?: number;
  fetch?: typeof fetch;
}

/** A partial or final image of a 1536×1024 PNG is a few MiB of base64; far more is not an image. */
const MAX_STREAM_EVENT_BYTES = 64 * 1024 * 1024;

export function createOpenAICompatibleProvider(options: OpenAICompatibleOptions): GenerationProvider {
  const send = options.fetch ?? fetch;
  const endpoint = `${options.baseUrl.replace(/\/+$/, "")}/images/generations`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  // Aborts surface as the caller's reason; anything else on the wire means the server is unreachable.
  async function guarded<T>(signal: AbortSignal, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      signal.throwIfAborted();
      if (error instanceof PipelineError) throw error;
      throw new PipelineError("provider_unavailable", `image provider unreachable: ${String(error)}`, {
        retryable: true,
        cause: error,
      });
    }
  }

  const partialImages = isGptImageModel(options.model) ? (options.partialImages ?? 0) : 0;

  /** Reads the event stream: previews as partial images arrive, then the completed image. */
  async function readStream(response: Response, { signal, onStage, onPreview }: GenerationInput) {
    let completed: string | null = null;
    const events = readSseEvents(response.body ?? new ReadableStream(), MAX_STREAM_EVENT_BYTES);
    for await (const { event, data } of guardSize(events)) {
      let payload: { type?: unknown; b64_json?: unknown; partial_image_index?: unknown; error?: { message?: unknown } };
      try {
        payload = JSON.parse(data);
      } catch (error) {
        throw malformed(`a streamed ${event} event is not JSON`, error);
      }
      const type = payload.type ?? event;
      if (type === "image_generation.partial_image" && typeof payload.b64_json === "string") {
        const index = typeof payload.partial_image_index === "number" ? payload.partial_image_index : 0;
        onStage("rendering", Math.min(35, 15 + Math.round((20 * (index + 1)) / partialImages)));
        onPreview?.({ encoded: new Uint8Array(Buffer.from(payload.b64_json, "base64")) });
      } else if (type === "image_generation.completed" && typeof payload.b64_json === "string") {
        completed = JSON.stringify({ data: [{ b64_json: payload.b64_json }] });
      } else if (type === "error") {
        throw malformed(`the stream reported an error: ${String(payload.error?.message ?? "unknown")}`);
      }
      signal.throwIfAborted();
    }
    if (completed === null) throw malformed("the stream ended without image_generation.completed");
    return completed;
  }

  return {
    name: "openai-compatible",
    async generate(input) {
      const { params, signal, onStage } = input;
      signal.throwIfAborted();
      onStage("rendering", 10);
      const body = {
        model: options.model,
        prompt: params.prompt,
        n: 1,
        size: closestSize(options.model, params.width, params.height),
        // GPT image models always answer base64 and reject the field; DALL·E defaults to URLs.
        ...(isDallEModel(options.model) ? { response_format: "b64_json" } : {}),
        ...(partialImages > 0 ? { stream: true, partial_images: partialImages } : {}),
      };
      const answer = await guarded(signal, async () => {
        const response = await send(endpoint, { method: "POST", headers, body: JSON.stringify(body), signal });
        if (!response.ok) throw await errorFromResponse(response);
        const streamed = (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
        return streamed ? readStream(response, input) : response.text();
      });
      onStage("rendering", 40);
      const image = readImage(answer);
      const bytes =
        "bytes" in image
          ? image.bytes
          : await guarded(signal, () => download(send, new URL(image.url, endpoint), signal));
      signal.throwIfAborted();
      onStage("rendering", 50);
      const pixels = await decode(bytes, params.width, params.height);
      signal.throwIfAborted();
      onStage("rendering", 60);
      return encodeGenerated(pixels, params.format, "smooth", { signal, onStage });
    },
  };
}

async function* guardSize<T>(events: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* events;
  } catch (error) {
    throw error instanceof SseTooLarge ? malformed(error.message, error) : error;
  }
}

function malformed(message: string, cause?: unknown): PipelineError {
  // A garbled answer is usually a glitch; a fresh attempt generates a fresh image.
  return new PipelineError("provider_error", `image provider sent a malformed answer: ${message}`, {
    retryable: true,
    cause,
  });
}

function readImage(text: string): { bytes: Uint8Array } | { url: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw malformed("not JSON", error);
  }
  const first = (body as { data?: unknown } | null)?.data;
  const item = Array.isArray(first) ? (first[0] as Record<string, unknown> | undefined) : undefined;
  if (typeof item?.b64_json === "string" && item.b64_json.length > 0) {
    const bytes = Buffer.from(item.b64_json, "base64");
    if (bytes.length === 0) throw malformed("empty b64_json");
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }
  if (typeof item?.url === "string" && item.url.length > 0) return { url: item.url };
  throw malformed("no data[0].b64_json or data[0].url");
}

// OpenAI's URLs expire after an hour and LocalAI's point at the server itself: fetch at once.
async function download(send: typeof fetch, url: URL, signal: AbortSignal): Promise<Uint8Array> {
  const response = await send(url, { signal });
  if (!response.ok) {
    const error = await errorFromResponse(response);
    if (error.code === "provider_unavailable") throw error;
    throw new PipelineError("provider_error", `image download failed: ${error.message}`, {
      retryable: true,
      details: error.details,
    });
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function decode(bytes: Uint8Array, width: number, height: number): Promise<Pixels> {
  try {
    return await rasterize({ encoded: bytes }, { width, height, fit: "cover" });
  } catch (error) {
    throw malformed("the image does not decode", error);
  }
}
