import { expect, test } from "bun:test";
import { errorFromResponse, retryAfter } from "./provider-errors.ts";

const NOW = Date.parse("2026-11-27T13:00:00Z");

test.each([
  [{ "retry-after": "12" }, 12],
  [{ "retry-after-ms": "1500", "retry-after": "9" }, 1.5],
  [{ "retry-after": "Fri, 27 Nov 2026 13:00:30 GMT" }, 30],
  [{ "retry-after": "Fri, 27 Nov 2026 12:00:00 GMT" }, 0],
  [{ "retry-after": "soon" }, undefined],
  [{}, undefined],
])("Retry-After %j is %p seconds", (headers, seconds) => {
  expect(retryAfter(new Headers(headers), NOW)).toBe(seconds);
});

test("LocalAI's numeric error codes and plain-text proxy errors are understood", async () => {
  const localAI = await errorFromResponse(
    Response.json({ error: { code: 500, message: "backend crashed", type: "" } }, { status: 500 }),
  );
  expect(localAI).toMatchObject({ code: "provider_unavailable", retryable: true, details: { upstreamCode: "500" } });
  expect(localAI.message).toContain("backend crashed");

  const proxy = await errorFromResponse(new Response("Bad Gateway", { status: 502 }));
  expect(proxy).toMatchObject({ code: "provider_unavailable", retryable: true });
  expect(proxy.message).toContain("Bad Gateway");
});

test("a content-policy code outranks the generic 400", async () => {
  const refusal = await errorFromResponse(
    Response.json(
      { error: { code: "content_policy_violation", message: "rejected", param: null, type: "invalid_request_error" } },
      { status: 400 },
    ),
  );
  expect(refusal).toMatchObject({ code: "content_policy", retryable: false });
  const invalid = await errorFromResponse(
    Response.json({ error: { code: "invalid_value", message: "bad size", param: "size" } }, { status: 400 }),
  );
  expect(invalid).toMatchObject({ code: "provider_error", retryable: false });
});
