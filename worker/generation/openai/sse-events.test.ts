import { expect, test } from "bun:test";
import { readSseEvents, SseTooLarge } from "./sse-events.ts";

const stream = (chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });

const collect = async (chunks: string[], max = 1 << 20) => {
  const out = [];
  for await (const event of readSseEvents(stream(chunks), max)) out.push(event);
  return out;
};

test("events split across chunks, multi-line data, comments and CRLF line ends", async () => {
  const events = await collect([
    ": keep-alive\n\nevent: image_generation.partial_image\nda",
    'ta: {"a":1}\n\nevent: done\r\ndata: line one\r\ndata: line two\r\n\r\n',
    "data: no event name and no blank line at the end",
  ]);
  expect(events).toEqual([
    { event: "image_generation.partial_image", data: '{"a":1}' },
    { event: "done", data: "line one\nline two" },
    { event: "message", data: "no event name and no blank line at the end" },
  ]);
});

test("an event larger than the limit stops the read", async () => {
  await expect(collect([`data: ${"x".repeat(200)}`], 100)).rejects.toBeInstanceOf(SseTooLarge);
});
