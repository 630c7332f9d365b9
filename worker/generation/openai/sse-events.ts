/**
 * Server-sent events (the WHATWG event-stream format) read from a response body: what OpenAI's
 * images API streams with `stream: true`. Only `event` and `data` fields matter here; comments
 * and `id`/`retry` are skipped. An upstream that sends one event larger than `maxEventBytes` is
 * cut off rather than buffered without bound.
 */
export interface SseEvent {
  event: string;
  data: string;
}

export class SseTooLarge extends Error {}

export async function* readSseEvents(
  body: ReadableStream<Uint8Array>,
  maxEventBytes: number,
): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  const parse = (block: string): SseEvent | null => {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    return data.length ? { event, data: data.join("\n") } : null;
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.search(/\r\n\r\n|\n\n|\r\r/); end !== -1; end = buffer.search(/\r\n\r\n|\n\n|\r\r/)) {
      const separator = buffer.startsWith("\r\n\r\n", end) ? 4 : 2;
      const event = parse(buffer.slice(0, end));
      buffer = buffer.slice(end + separator);
      if (event) yield event;
    }
    if (buffer.length > maxEventBytes) throw new SseTooLarge(`an event is larger than ${maxEventBytes} bytes`);
  }
  buffer += decoder.decode();
  const last = parse(buffer);
  if (last) yield last;
}
