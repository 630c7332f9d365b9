import { afterAll, describe, expect, test } from "bun:test";
import { PipelineError } from "../../shared/errors.ts";
import type { GenerationParams } from "../../shared/events/params.ts";
import { readImageInfo, THUMBNAIL_SIZE } from "../imaging/sharp-image.ts";
import { startOpenAIImagesStandIn } from "../testing/openai-images-standin.ts";
import { createOpenAICompatibleProvider } from "./openai-compatible-provider.ts";
import type { PreviewSource, ProviderStage } from "./provider.ts";

const API_KEY = "sk-test-0123456789abcdef";
const standIn = startOpenAIImagesStandIn({
  apiKey: API_KEY,
  forbiddenWords: ["forbidden"],
  localModels: ["stablediffusion"],
});
afterAll(() => standIn.close());

const params: GenerationParams = {
  prompt: "a red fox in the snow",
  style: "pixel-art",
  width: 512,
  height: 384,
  format: "avif",
  seed: 1,
};

function generate(
  model: string,
  overrides: Partial<GenerationParams> = {},
  options: {
    apiKey?: string;
    baseUrl?: string;
    fetch?: typeof fetch;
    signal?: AbortSignal;
    partialImages?: number;
  } = {},
) {
  const provider = createOpenAICompatibleProvider({
    baseUrl: options.baseUrl ?? standIn.url,
    apiKey: options.apiKey ?? API_KEY,
    model,
    partialImages: options.partialImages,
    fetch: options.fetch,
  });
  const stages: [ProviderStage, number][] = [];
  const previews: PreviewSource[] = [];
  const result = provider.generate({
    params: { ...params, ...overrides },
    signal: options.signal ?? new AbortController().signal,
    onStage: (stage, progress) => stages.push([stage, progress]),
    onPreview: (source) => previews.push(source),
  });
  return { result, stages, previews };
}

async function failure(promise: Promise<unknown>): Promise<PipelineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PipelineError);
  return error as PipelineError;
}

const lastGeneration = () => standIn.requests.filter((r) => r.method === "POST").at(-1);

describe("OpenAI-compatible provider against the stand-in", () => {
  test("gpt-image: sends the documented request and re-encodes the base64 answer to the requested size and format", async () => {
    const { result, stages } = generate("gpt-image-1");
    const image = await result;
    expect(lastGeneration()).toMatchObject({
      path: "/v1/images/generations",
      authorization: `Bearer ${API_KEY}`,
      body: { model: "gpt-image-1", prompt: params.prompt, n: 1, size: "1536x1024" },
    });
    expect(lastGeneration()?.body).not.toHaveProperty("response_format");
    expect(image).toMatchObject({ width: 512, height: 384, format: "avif" });
    expect(await readImageInfo(image.bytes)).toEqual({ width: 512, height: 384, format: "avif" });
    expect(await readImageInfo(image.thumbnail.bytes)).toEqual({ width: THUMBNAIL_SIZE, height: 192, format: "webp" });
    expect(stages.map(([s]) => s)).toEqual([
      "rendering",
      "rendering",
      "rendering",
      "rendering",
      "encoding",
      "encoding",
    ]);
  });

  test("gpt-image with partial images: streams, each partial image becomes a preview, the completed one the image", async () => {
    const { result, stages, previews } = generate("gpt-image-1", {}, { partialImages: 2 });
    const image = await result;
    expect(lastGeneration()?.body).toMatchObject({ model: "gpt-image-1", stream: true, partial_images: 2 });
    expect(previews).toHaveLength(2);
    for (const preview of previews) {
      if (!("encoded" in preview)) throw new Error("expected the partial image's bytes");
      // Partial images arrive full size (1536×1024 here): the worker makes them small.
      expect(await readImageInfo(preview.encoded)).toEqual({ width: 1536, height: 1024, format: "png" });
    }
    expect(await readImageInfo(image.bytes)).toEqual({ width: 512, height: 384, format: "avif" });
    const progress = stages.map(([, p]) => p);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  test("dall-e never streams, whatever partial images are configured", async () => {
    const { result, previews } = generate("dall-e-2", { format: "png" }, { partialImages: 3 });
    await result;
    expect(lastGeneration()?.body).not.toHaveProperty("stream");
    expect(lastGeneration()?.body).not.toHaveProperty("partial_images");
    expect(previews).toEqual([]);
  });

  test("a stream that ends without image_generation.completed is a retryable provider_error", async () => {
    const partial = JSON.stringify({
      type: "image_generation.partial_image",
      b64_json: "AAAA",
      partial_image_index: 0,
    });
    const cut = (async () =>
      new Response(`event: image_generation.partial_image\ndata: ${partial}\n\n`, {
        headers: { "content-type": "text/event-stream" },
      })) as unknown as typeof fetch;
    const error = await failure(generate("gpt-image-1", {}, { fetch: cut, partialImages: 1 }).result);
    expect(error).toMatchObject({ code: "provider_error", retryable: true });
    expect(error.message).toContain("without image_generation.completed");
  });

  test("dall-e: asks for b64_json and a size the model supports", async () => {
    const image = await generate("dall-e-2", { format: "png" }).result;
    expect(lastGeneration()?.body).toMatchObject({ model: "dall-e-2", size: "512x512", response_format: "b64_json" });
    expect(await readImageInfo(image.bytes)).toEqual({ width: 512, height: 384, format: "png" });
  });

  test("a URL answer (LocalAI style) is downloaded at once", async () => {
    const before = standIn.requests.length;
    const image = await generate("stablediffusion", { width: 768, height: 512, format: "jpeg" }).result;
    const seen = standIn.requests.slice(before);
    expect(seen.map((r) => r.method)).toEqual(["POST", "GET"]);
    expect(seen[0]?.body).toMatchObject({ size: "768x512" });
    expect(seen[0]?.body).not.toHaveProperty("response_format");
    expect(seen[1]?.path).toStartWith("/generated-images/");
    expect(await readImageInfo(image.bytes)).toEqual({ width: 768, height: 512, format: "jpeg" });
  });

  test("429 is a retryable provider_unavailable carrying Retry-After", async () => {
    standIn.failNext(429, 1, { retryAfterSeconds: 7 });
    const error = await failure(generate("gpt-image-1").result);
    expect(error).toMatchObject({ code: "provider_unavailable", retryable: true });
    expect(error.details).toMatchObject({ status: 429, retryAfterSeconds: 7, upstreamCode: "rate_limit_exceeded" });
  });

  test.each([500, 502, 503] as const)("%i is a retryable provider_unavailable", async (status) => {
    standIn.failNext(status);
    const error = await failure(generate("gpt-image-1").result);
    expect(error).toMatchObject({ code: "provider_unavailable", retryable: true, details: { status } });
  });

  test("the request after scripted failures succeeds", async () => {
    standIn.failNext(503, 2);
    expect((await failure(generate("gpt-image-1").result)).retryable).toBe(true);
    expect((await failure(generate("gpt-image-1").result)).retryable).toBe(true);
    expect((await generate("gpt-image-1").result).format).toBe("avif");
  });

  test("an exhausted quota (429 insufficient_quota) is not retried", async () => {
    standIn.failNext(429, 1, { code: "insufficient_quota" });
    expect(await failure(generate("gpt-image-1").result)).toMatchObject({ code: "provider_error", retryable: false });
  });

  test.each(["dall-e-3", "gpt-image-1"])(
    "%s: a content-policy refusal is a non-retryable content_policy",
    async (model) => {
      const error = await failure(generate(model, { prompt: "something Forbidden" }).result);
      expect(error).toMatchObject({ code: "content_policy", retryable: false, details: { status: 400 } });
    },
  );

  test("a wrong key is a non-retryable provider_error", async () => {
    const error = await failure(generate("gpt-image-1", {}, { apiKey: "sk-wrong-key-000000" }).result);
    expect(error).toMatchObject({
      code: "provider_error",
      retryable: false,
      details: { status: 401, upstreamCode: "invalid_api_key" },
    });
    expect(error.message).not.toContain("sk-wrong-key-000000");
  });

  test("a model the server does not know is a non-retryable provider_error", async () => {
    const error = await failure(generate("dall-e-9").result);
    expect(error).toMatchObject({
      code: "provider_error",
      retryable: false,
      details: { status: 400, upstreamCode: "invalid_value" },
    });
  });

  test("an unreachable server is a retryable provider_unavailable", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const baseUrl = `http://127.0.0.1:${closed.port}/v1`;
    await closed.stop(true);
    const error = await failure(generate("gpt-image-1", {}, { baseUrl }).result);
    expect(error).toMatchObject({ code: "provider_unavailable", retryable: true });
  });

  test.each([
    ["not JSON", "<html>bad gateway</html>"],
    ["no data", JSON.stringify({ created: 1, data: [] })],
    [
      "not an image",
      JSON.stringify({ created: 1, data: [{ b64_json: Buffer.from("not an image").toString("base64") }] }),
    ],
  ])("a malformed answer (%s) is a retryable provider_error", async (_name, answer) => {
    const fetchAnswer = (async () => new Response(answer, { status: 200 })) as unknown as typeof fetch;
    const error = await failure(generate("gpt-image-1", {}, { fetch: fetchAnswer }).result);
    expect(error).toMatchObject({ code: "provider_error", retryable: true });
  });

  test("an abort during the request rejects with the abort reason", async () => {
    const controller = new AbortController();
    const reason = new PipelineError("timeout", "generation timed out");
    const provider = createOpenAICompatibleProvider({ baseUrl: standIn.url, apiKey: API_KEY, model: "gpt-image-1" });
    const result = provider.generate({
      params,
      signal: controller.signal,
      onStage: (stage) => {
        if (stage === "rendering") controller.abort(reason);
      },
    });
    await expect(result).rejects.toBe(reason);
  });

  test("an abort while the model is still working rejects with the abort reason", async () => {
    const slow = startOpenAIImagesStandIn({ apiKey: API_KEY, latencyMs: 5_000 });
    try {
      const controller = new AbortController();
      const reason = new PipelineError("canceled", "canceled by the user");
      const { result } = generate("gpt-image-1", {}, { baseUrl: slow.url, signal: controller.signal });
      while (slow.requests.length === 0) await Bun.sleep(5);
      controller.abort(reason);
      await expect(result).rejects.toBe(reason);
    } finally {
      await slow.close();
    }
  });
});
