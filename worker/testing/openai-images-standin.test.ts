import { afterAll, expect, test } from "bun:test";
import { startOpenAIImagesStandIn } from "./openai-images-standin.ts";

const standIn = startOpenAIImagesStandIn({ apiKey: "sk-standin-key-0001" });
afterAll(() => standIn.close());

const post = (body: unknown, key = "sk-standin-key-0001") =>
  fetch(`${standIn.url}/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });

async function expectError(response: Response, status: number, error: Record<string, unknown>) {
  expect(response.status).toBe(status);
  expect(((await response.json()) as { error: unknown }).error).toMatchObject(error);
}

test("answers the documented shapes for GPT image and DALL·E models", async () => {
  const gpt = (await (await post({ model: "gpt-image-1", prompt: "a fox" })).json()) as Record<string, unknown>;
  expect(gpt).toMatchObject({ created: expect.any(Number), size: "1024x1024", output_format: "png" });
  expect(gpt.data).toEqual([{ b64_json: expect.any(String) }]);

  const dalle = (await (await post({ model: "dall-e-3", prompt: "a fox", size: "1792x1024" })).json()) as {
    data: { url: string; revised_prompt: string }[];
  };
  expect(dalle.data[0]?.revised_prompt).toBe("a fox");
  const file = await fetch(dalle.data[0]?.url ?? "");
  expect(file.headers.get("content-type")).toBe("image/png");
});

test("streams GPT image models as documented: partial_image events, then completed with usage", async () => {
  const response = await post({ model: "gpt-image-1", prompt: "a fox", stream: true, partial_images: 2 });
  expect(response.headers.get("content-type")).toBe("text/event-stream");
  const blocks = (await response.text()).split("\n\n").filter(Boolean);
  const events = blocks.map((block) => {
    const [eventLine, dataLine] = block.split("\n");
    return { event: eventLine?.replace("event: ", ""), data: JSON.parse(dataLine?.replace("data: ", "") ?? "{}") };
  });
  expect(events.map((e) => [e.event, e.data.type, e.data.partial_image_index])).toEqual([
    ["image_generation.partial_image", "image_generation.partial_image", 0],
    ["image_generation.partial_image", "image_generation.partial_image", 1],
    ["image_generation.completed", "image_generation.completed", undefined],
  ]);
  for (const { data } of events)
    expect(data).toMatchObject({ b64_json: expect.any(String), size: "1024x1024", output_format: "png" });
  expect(events[2]?.data.usage).toMatchObject({ output_tokens: expect.any(Number) });
});

test.each([
  ["stream on dall-e", { model: "dall-e-2", prompt: "x", stream: true }, "stream", "invalid_value"],
  [
    "partial_images above 3",
    { model: "gpt-image-1", prompt: "x", stream: true, partial_images: 4 },
    "partial_images",
    "invalid_value",
  ],
  ["a missing prompt", { model: "gpt-image-1" }, "prompt", "missing_required_parameter"],
  ["a DALL·E size on gpt-image", { model: "gpt-image-1", prompt: "x", size: "512x512" }, "size", "invalid_value"],
  ["a GPT size on dall-e-2", { model: "dall-e-2", prompt: "x", size: "1536x1024" }, "size", "invalid_value"],
  [
    "response_format on gpt-image",
    { model: "gpt-image-1", prompt: "x", response_format: "b64_json" },
    "response_format",
    "unknown_parameter",
  ],
  ["n=2 on dall-e-3", { model: "dall-e-3", prompt: "x", n: 2 }, "n", "invalid_value"],
  ["a too long dall-e-2 prompt", { model: "dall-e-2", prompt: "x".repeat(1001) }, "prompt", "string_above_max_length"],
  ["an unknown model", { model: "midjourney", prompt: "x" }, "model", "invalid_value"],
])("rejects %s as invalid_request_error", async (_label, body, param, code) => {
  await expectError(await post(body), 400, { type: "invalid_request_error", param, code });
});

test("checks the key like OpenAI", async () => {
  await expectError(await post({ prompt: "x" }, ""), 401, { type: "invalid_request_error", code: null });
  const wrong = await post({ prompt: "x" }, "sk-wrong-key-9999");
  expect(wrong.status).toBe(401);
  const { error } = (await wrong.json()) as { error: { code: string; message: string } };
  expect(error.code).toBe("invalid_api_key");
  expect(error.message).not.toContain("sk-wrong-key-9999");
});

test("scripted failures come first, in order, then normal service resumes", async () => {
  standIn.failNext(429, 1, { retryAfterSeconds: 3 });
  standIn.failNext(500);
  const limited = await post({ model: "gpt-image-1", prompt: "x" });
  expect(limited.headers.get("retry-after")).toBe("3");
  await expectError(limited, 429, { code: "rate_limit_exceeded" });
  await expectError(await post({ model: "gpt-image-1", prompt: "x" }), 500, { type: "server_error" });
  expect((await post({ model: "gpt-image-1", prompt: "x" })).status).toBe(200);
});

test("records every request", async () => {
  const before = standIn.requests.length;
  await post({ model: "dall-e-2", prompt: "recorded" });
  expect(standIn.requests.slice(before)).toEqual([
    {
      method: "POST",
      path: "/v1/images/generations",
      authorization: "Bearer sk-standin-key-0001",
      body: { model: "dall-e-2", prompt: "recorded" },
    },
  ]);
});
