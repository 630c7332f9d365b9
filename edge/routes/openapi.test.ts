import { expect, test } from "bun:test";
import { API_ERROR_CODES, API_ERRORS } from "../../shared/api-errors.ts";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { workerOpenApiDocument } from "../../worker/http/openapi-document.ts";
import { documentedErrors, documentedOperations, servedOperations } from "../../worker/testing/openapi-contract.ts";
import { createEdgeApp } from "../app.ts";
import { buildEdgeDeps } from "../build-deps.ts";
import { edgeOpenApiDocument } from "../openapi-document.ts";

const secret = "s".repeat(40);
const env = {
  AUTH_JWT_SECRET: secret,
  KAFKA_REST_PASSWORD: secret,
  UPSTASH_REDIS_REST_TOKEN: secret,
  STUDIO_ORIGIN: "https://studio.pixel.test",
  PUBLIC_WS_URL: "wss://live.pixel.test",
};
const app = createEdgeApp(buildEdgeDeps(env));
const config = parseConfig(env, ["public", "edge", "webhooks"]);
const document = edgeOpenApiDocument(config);

test("GET /openapi.json needs no credentials and is the document of this deployment", async () => {
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  const served = (await response.json()) as typeof document;
  expect(served).toEqual(JSON.parse(JSON.stringify(document)));
  expect(served.servers).toEqual([{ url: "https://studio.pixel.test", description: expect.any(String) }]);
});

test("every route the edge serves is documented, and the document lists no other", () => {
  expect(servedOperations(app.routes)).toEqual(documentedOperations(document));
});

test("every documented error answer has its code's status, and every code of the table is documented", () => {
  const errors = [...documentedErrors(document), ...documentedErrors(workerOpenApiDocument(config))];
  for (const { operation, status, code } of errors)
    expect(`${operation} ${status} ${code}`).toBe(
      `${operation} ${API_ERRORS[code as keyof typeof API_ERRORS]?.status} ${code}`,
    );
  expect([...new Set(errors.map((e) => e.code))].sort()).toEqual([...API_ERROR_CODES].sort());
  expect(Object.keys(document.components.responses).sort()).toEqual(
    [...new Set(documentedErrors(document).map((e) => e.response))].sort(),
  );
});
