/**
 * A stand-in for an OpenAI-compatible images server (OpenAI is a paid service we cannot reach
 * from tests). It follows the documented request and response shapes, errors included: auth,
 * per-model validation, content-policy refusals, rate limits and outages on demand, LocalAI-style
 * URLs served by the stand-in itself, and streaming for GPT image models (`stream: true`,
 * `partial_images` 0–3): server-sent `image_generation.partial_image` events, each a full-size
 * image drawn further along, then `image_generation.completed` with the image and `usage`.
 */

import { isGptImageModel, parseSize, supportedSizes } from "../generation/openai/image-sizes.ts";
import { hashText } from "../generation/procedural/random.ts";
import { encode, rasterize } from "../imaging/sharp-image.ts";

export interface StandInOptions {
  apiKey: string;
  /** Prompts containing any of these words (case-insensitive) are refused by the "safety system". */
  forbiddenWords?: readonly string[];
  /**
   * Extra model names served the LocalAI way: any `WxH` size (512x512 when unparseable) and a
   * URL answer unless `response_format` is `b64_json`.
   */
  localModels?: readonly string[];
  /** How long a valid generation takes before it is answered; a real model takes seconds. */
  latencyMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
  /** Parsed JSON body of POSTs; undefined for GETs or bodies that are not JSON. */
  body: unknown;
}

export interface FailureOptions {
  /** Sent as `Retry-After` on 429s; defaults to 1. */
  retryAfterSeconds?: number;
  /** 429 flavour: a per-minute limit (default) or an exhausted quota. */
  code?: "rate_limit_exceeded" | "insufficient_quota";
}

export interface OpenAIImagesStandIn {
  /** Base URL ending in /v1, as clients are configured. */
  url: string;
  requests: RecordedRequest[];
  failNext(status: 429 | 500 | 502 | 503, count?: number, options?: FailureOptions): void;
  close(): Promise<void>;
}

const PROMPT_LIMITS: Record<string, number> = { "dall-e-2": 1000, "dall-e-3": 4000 };
const GPT_PROMPT_LIMIT = 32000;
const KNOWN_MODELS = ["gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "dall-e-2", "dall-e-3"];
const OUTPUT_FORMATS = ["png", "jpeg", "webp"] as const;
const TYPES = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" } as const;

type Failure = { status: number; options: FailureOptions };
type ErrorBody = { message: string; type: string; param: string | null; code: string | null };

const error = (status: number, e: ErrorBody, headers: Record<string, string> = {}) =>
  Response.json({ error: e }, { status, headers });
const invalid = (message: string, param: string | null, code: string | null) =>
  error(400, { message, type: "invalid_request_error", param, code });
const list = (values: readonly string[]) =>
  `${values
    .slice(0, -1)
    .map((v) => `'${v}'`)
    .join(", ")}, and '${values.at(-1)}'`;
const mask = (key: string) =>
  key.length > 8 ? `${key.slice(0, 3)}${"*".repeat(key.length - 7)}${key.slice(-4)}` : "*";

export function startOpenAIImagesStandIn(options: StandInOptions): OpenAIImagesStandIn {
  const requests: RecordedRequest[] = [];
  const failures: Failure[] = [];
  const files = new Map<string, Uint8Array>();
  const forbidden = (options.forbiddenWords ?? []).map((w) => w.toLowerCase());

  function failure(next: Failure): Response {
    if (next.status === 429) {
      const retryAfter = String(next.options.retryAfterSeconds ?? 1);
      if (next.options.code === "insufficient_quota")
        return error(429, {
          message: "You exceeded your current quota, please check your plan and billing details.",
          type: "insufficient_quota",
          param: null,
          code: "insufficient_quota",
        });
      return error(
        429,
        {
          message: `Rate limit reached for images per minute. Please try again in ${retryAfter}s.`,
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
        { "retry-after": retryAfter },
      );
    }
    const message =
      next.status === 503
        ? "The engine is currently overloaded, please try again later"
        : "The server had an error while processing your request. Sorry about that!";
    return error(next.status, { message, type: "server_error", param: null, code: null });
  }

  async function answer(
    request: Request,
    prompt: string,
    size: { width: number; height: number },
    asUrl: boolean,
    format: "png" | "jpeg" | "webp" = "png",
  ) {
    if (options.latencyMs) await Bun.sleep(options.latencyMs);
    const bytes = await picture(prompt, size.width, size.height, format);
    if (!asUrl) return { b64_json: Buffer.from(bytes).toString("base64") };
    const name = `${crypto.randomUUID()}.png`;
    files.set(name, bytes);
    return { url: new URL(`/generated-images/${name}`, request.url).toString() };
  }

  async function localAI(request: Request, b: Record<string, unknown>): Promise<Response> {
    const size = (typeof b.size === "string" && parseSize(b.size)) || { width: 512, height: 512 };
    const item = await answer(request, String(b.prompt ?? ""), size, b.response_format !== "b64_json");
    return Response.json({ id: crypto.randomUUID(), created: Math.floor(Date.now() / 1000), data: [item] });
  }

  async function generate(request: Request, body: unknown): Promise<Response> {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return invalid("We could not parse the JSON body of your request.", null, null);
    const b = body as Record<string, unknown>;
    const model = b.model ?? "dall-e-2";
    if (typeof model === "string" && options.localModels?.includes(model)) return localAI(request, b);
    if (typeof model !== "string" || !KNOWN_MODELS.includes(model))
      return invalid(
        `Invalid value: '${String(model)}'. Supported values are: ${list(KNOWN_MODELS)}.`,
        "model",
        "invalid_value",
      );
    const gpt = isGptImageModel(model);
    if (b.prompt === undefined)
      return invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
    if (typeof b.prompt !== "string")
      return invalid("Invalid type for 'prompt': expected a string.", "prompt", "invalid_type");
    const limit = gpt ? GPT_PROMPT_LIMIT : (PROMPT_LIMITS[model] ?? GPT_PROMPT_LIMIT);
    if (b.prompt.length > limit)
      return invalid(
        `Invalid 'prompt': string too long. Expected a string with maximum length ${limit}, but got a string with length ${b.prompt.length} instead.`,
        "prompt",
        "string_above_max_length",
      );
    const n = b.n ?? 1;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 10 || (model === "dall-e-3" && n !== 1))
      return invalid(`Invalid value for 'n': ${String(n)}.`, "n", "invalid_value");
    const sizes = [...(supportedSizes(model) ?? []), ...(gpt ? ["auto"] : [])];
    const size = b.size ?? (gpt ? "auto" : "1024x1024");
    if (typeof size !== "string" || !sizes.includes(size))
      return invalid(
        `Invalid value: '${String(size)}'. Supported values are: ${list(sizes)}.`,
        "size",
        "invalid_value",
      );
    if (gpt && b.response_format !== undefined)
      return invalid("Unknown parameter: 'response_format'.", "response_format", "unknown_parameter");
    const responseFormat = b.response_format ?? "url";
    if (responseFormat !== "url" && responseFormat !== "b64_json")
      return invalid(
        `Invalid value: '${String(responseFormat)}'. Supported values are: 'url' and 'b64_json'.`,
        "response_format",
        "invalid_value",
      );
    if (b.stream !== undefined && typeof b.stream !== "boolean")
      return invalid("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type");
    if (b.stream === true && !gpt)
      return invalid(`Streaming is not supported for model '${model}'.`, "stream", "invalid_value");
    const partials = b.partial_images ?? 0;
    if (typeof partials !== "number" || !Number.isInteger(partials) || partials < 0 || partials > 3)
      return invalid(
        `Invalid 'partial_images': expected an integer between 0 and 3, got ${String(partials)}.`,
        "partial_images",
        "invalid_value",
      );
    const outputFormat = gpt ? (b.output_format ?? "png") : "png";
    if (!OUTPUT_FORMATS.includes(outputFormat as never))
      return invalid(
        `Invalid value: '${String(outputFormat)}'. Supported values are: ${list(OUTPUT_FORMATS)}.`,
        "output_format",
        "invalid_value",
      );

    const prompt = b.prompt.toLowerCase();
    if (forbidden.some((word) => prompt.includes(word)))
      return gpt
        ? error(400, {
            message: `Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_${crypto.randomUUID().replaceAll("-", "")}.`,
            type: "image_generation_user_error",
            param: null,
            code: "moderation_blocked",
          })
        : error(400, {
            message:
              "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
            type: "invalid_request_error",
            param: null,
            code: "content_policy_violation",
          });

    const { width, height } = parseSize(size === "auto" ? "1024x1024" : size) ?? { width: 1024, height: 1024 };
    const format = outputFormat as (typeof OUTPUT_FORMATS)[number];
    if (b.stream === true) return stream(b.prompt, { width, height }, format, partials);
    const asUrl = !gpt && responseFormat === "url";
    const data = await Promise.all(
      Array.from({ length: n }, () => answer(request, b.prompt as string, { width, height }, asUrl, format)),
    );
    const created = Math.floor(Date.now() / 1000);
    if (!gpt)
      return Response.json({
        created,
        data: model === "dall-e-3" ? data.map((d) => ({ ...d, revised_prompt: b.prompt })) : data,
      });
    return Response.json({
      created,
      data,
      background: "opaque",
      output_format: format,
      size: `${width}x${height}`,
      quality: "medium",
      usage: {
        input_tokens: 10,
        input_tokens_details: { text_tokens: 10, image_tokens: 0 },
        output_tokens: 1056,
        total_tokens: 1066,
      },
    });
  }

  /** The documented event stream: partial images as they are drawn, then the completed one. */
  function stream(
    prompt: string,
    size: { width: number; height: number },
    format: "png" | "jpeg" | "webp",
    partials: number,
  ) {
    const common = () => ({
      background: "opaque",
      created_at: Math.floor(Date.now() / 1000),
      output_format: format,
      quality: "medium",
      size: `${size.width}x${size.height}`,
    });
    const encoder = new TextEncoder();
    const sse = (event: string, data: object) => encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const step = (options.latencyMs ?? 0) / (partials + 1);
        for (let index = 0; index < partials; index++) {
          await Bun.sleep(step);
          const bytes = await picture(prompt, size.width, size.height, format, (index + 1) / (partials + 1));
          controller.enqueue(
            sse("image_generation.partial_image", {
              type: "image_generation.partial_image",
              b64_json: Buffer.from(bytes).toString("base64"),
              partial_image_index: index,
              ...common(),
            }),
          );
        }
        await Bun.sleep(step);
        const bytes = await picture(prompt, size.width, size.height, format);
        controller.enqueue(
          sse("image_generation.completed", {
            type: "image_generation.completed",
            b64_json: Buffer.from(bytes).toString("base64"),
            ...common(),
            usage: {
              input_tokens: 10,
              input_tokens_details: { text_tokens: 10, image_tokens: 0 },
              output_tokens: 1056 + 100 * partials,
              total_tokens: 1066 + 100 * partials,
            },
          }),
        );
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const authorization = request.headers.get("authorization");
      const text = request.method === "POST" ? await request.text() : "";
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ method: request.method, path, authorization, body });

      const file = /^\/generated-images\/([\w-]+\.png)$/.exec(path)?.[1];
      if (request.method === "GET" && file) {
        const bytes = files.get(file);
        return bytes
          ? new Response(bytes, { headers: { "content-type": TYPES.png } })
          : new Response("not found", { status: 404 });
      }
      if (request.method !== "POST" || path !== "/v1/images/generations")
        return error(404, {
          message: `Invalid URL (${request.method} ${path})`,
          type: "invalid_request_error",
          param: null,
          code: null,
        });
      if (!authorization?.startsWith("Bearer "))
        return error(401, {
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          type: "invalid_request_error",
          param: null,
          code: null,
        });
      const key = authorization.slice("Bearer ".length);
      if (key !== options.apiKey)
        return error(401, {
          message: `Incorrect API key provided: ${mask(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        });
      const next = failures.shift();
      if (next) return failure(next);
      if (text && body === undefined) return invalid("We could not parse the JSON body of your request.", null, null);
      return generate(request, body);
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}/v1`,
    requests,
    failNext(status, count = 1, failureOptions = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, options: failureOptions });
    },
    close: () => server.stop(true),
  };
}

/**
 * A flat colour and a disc, both from the prompt's hash: recognisable, tiny and fast. `drawn`
 * (0–1) grows the disc, for the partial images of a stream.
 */
async function picture(prompt: string, width: number, height: number, format: "png" | "jpeg" | "webp", drawn = 1) {
  const [h1, h2] = hashText(prompt);
  const colour = (h: number) => `#${(h & 0xffffff).toString(16).padStart(6, "0")}`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="${colour(h1)}"/>` +
    `<circle cx="${width / 2}" cy="${height / 2}" r="${(drawn * Math.min(width, height)) / 3}" fill="${colour(h2)}"/></svg>`;
  return encode(await rasterize({ svg }, { width, height, fit: "fill" }), format);
}
