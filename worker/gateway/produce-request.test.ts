import { describe, expect, test } from "bun:test";
import { edgeMessage } from "./gateway-fixtures.ts";
import { parseProduceRequest } from "./produce-request.ts";

const allowedTopics = new Set(["requests"]);
const atPath = { pathTopic: "requests", allowedTopics };
const atRoot = { allowedTopics };

describe("parseProduceRequest", () => {
  test("one message keeps its fields, and a missing key becomes the event id", () => {
    const { key, ...message } = edgeMessage();
    const parsed = parseProduceRequest({ ...message, partition: 2, timestamp: 1700000000000 }, atPath);
    expect(parsed).toEqual({
      ok: true,
      single: true,
      records: [
        {
          topic: "requests",
          key,
          value: message.value,
          headers: message.headers,
          partition: 2,
          timestamp: 1700000000000,
        },
      ],
    });
  });

  test("a list on POST /produce takes each message's topic", () => {
    const messages = [edgeMessage(), edgeMessage()];
    const parsed = parseProduceRequest(
      messages.map((m) => ({ topic: "requests", ...m })),
      atRoot,
    );
    expect(parsed).toEqual({ ok: true, single: false, records: messages.map((m) => ({ topic: "requests", ...m })) });
  });

  test.each([
    ["an empty list", [], atPath, 400, "the request has no messages"],
    ["a body that is not an object", "hello", atPath, 400, "invalid message: must be an object, got string"],
    ["a missing topic on POST /produce", { value: "{}" }, atRoot, 400, "invalid message: topic is required"],
    [
      "a header without a value",
      [{ value: "{}", headers: [{ key: "traceparent" }] }],
      atPath,
      400,
      "invalid message: [0].headers[0].value is required",
    ],
    ["an unknown field", { value: "{}", offset: 3 }, atPath, 400, "invalid message: offset is not a known field"],
    [
      "a topic that differs from the path",
      { topic: "other", value: "{}" },
      atPath,
      400,
      'invalid message: topic "other" differs from the topic in the path',
    ],
    [
      "a topic outside the allowlist, even with an invalid value",
      [
        { topic: "requests", value: "{}" },
        { topic: "status", value: "{}" },
      ],
      atRoot,
      403,
      'producing to topic "status" is not allowed',
    ],
    [
      "a value that is not JSON",
      { value: "{" },
      atPath,
      400,
      "invalid message: value is not a valid request event (is not valid JSON)",
    ],
  ])("refuses %s", (_, body, options, status, error) => {
    expect(parseProduceRequest(body, options)).toEqual({ ok: false, status: status as 400 | 403, error });
  });

  test("refuses the whole list when one key differs from its event id", () => {
    const [good, other] = [edgeMessage(), edgeMessage()];
    const parsed = parseProduceRequest([good, { ...good, key: other.key }], atPath);
    expect(parsed).toEqual({
      ok: false,
      status: 400,
      error: `invalid message: [1].key must equal the event id ${good.key}`,
    });
  });
});
