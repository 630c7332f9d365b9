import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020.js";
import { submitSchema } from "../../edge/submit-body.ts";
import { apiErrorBody } from "../api-errors.ts";
import { generationSnapshot } from "../snapshot.ts";
import { serverMessage } from "../ws-messages.ts";
import { patternOf, schemaRegistry } from "./json-schema.ts";
import {
  described,
  discriminated,
  integer,
  literal,
  named,
  nullable,
  object,
  type Schema,
  string,
  withDefault,
} from "./schema.ts";

const publicOnly = { allowPrivate: false, allowHttp: false };

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
/** Both verdicts on each input: the validator's and Ajv's on the validator's JSON form. */
function verdicts(schema: Schema<unknown>, inputs: unknown[]) {
  const viaRegistry = schemaRegistry();
  const root = schema.jsonSchema(viaRegistry.context);
  const id = `https://schema-test.invalid/${crypto.randomUUID()}`;
  const check = ajv.compile({ $id: id, ...root, components: { schemas: viaRegistry.schemas } });
  const inline = ajv.compile(schema.jsonSchema());
  return inputs.map((input) => ({
    input,
    parse: schema.parse(input).ok,
    json: check(input),
    inlined: inline(input),
  }));
}
const disagreements = (schema: Schema<unknown>, inputs: unknown[]) =>
  verdicts(schema, inputs).filter((v) => v.parse !== v.json || v.parse !== v.inlined);

const id = "0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";
const params = { prompt: "fox", style: "noise", width: 512, height: 256, format: "png", seed: 7 };
const at = "2026-11-27T13:00:00.000Z";
const image = { url: "http://localhost:3001/images/ab/x.png", width: 512, height: 256, format: "png", bytes: 10 };
const snapshot = { id, status: "queued", progress: 0, stage: "queued", attempts: 0, params, createdAt: at, seq: 0 };

describe("each schema's JSON form accepts and refuses what the schema does", () => {
  test("the submit body", () => {
    const inputs = [
      { prompt: "a" },
      { ...params, prompt: "x".repeat(1000) },
      { ...params, seed: 0 },
      { ...params, seed: 4294967295, width: 2048, height: 2048 },
      { ...params, webhookUrl: "https://hooks.pixel.test/done" },
      {},
      { prompt: "" },
      { prompt: "   " },
      { prompt: 5 },
      { prompt: "x".repeat(1001) },
      { ...params, style: "oil" },
      { ...params, width: 1000 },
      { ...params, width: 128 },
      { ...params, width: 2112 },
      { ...params, height: "1024" },
      { ...params, format: "gif" },
      { ...params, seed: -1 },
      { ...params, seed: 2 ** 32 },
      { ...params, seed: 1.5 },
      { ...params, webhookUrl: 3 },
      { ...params, colour: "red" },
      [],
      null,
      "prompt=x",
    ];
    expect(disagreements(submitSchema(publicOnly), inputs)).toEqual([]);
    expect(verdicts(submitSchema(publicOnly), inputs).filter((v) => v.parse).length).toBe(5);
  });

  test("the generation snapshot", () => {
    const inputs = [
      snapshot,
      { ...snapshot, queuePosition: 3 },
      { ...snapshot, status: "completed", stage: "done", progress: 100, startedAt: at, completedAt: at, image, seq: 5 },
      { ...snapshot, status: "failed", error: { code: "timeout", message: "too slow", retryable: false } },
      { ...snapshot, seq: undefined },
      { ...snapshot, status: "running" },
      { ...snapshot, progress: 101 },
      { ...snapshot, userId: "alice" },
      { ...snapshot, image: { ...image, sha256: "a".repeat(64) } },
      { ...snapshot, error: { code: "oops", message: "x", retryable: false } },
      { ...snapshot, createdAt: "yesterday" },
      { ...snapshot, id: crypto.randomUUID() },
    ];
    expect(disagreements(generationSnapshot, inputs)).toEqual([]);
  });

  test("live messages", () => {
    const inputs = [
      { type: "snapshot", ...snapshot },
      { type: "status", id, seq: 2, status: "processing", progress: 40, stage: "rendering", at },
      { type: "completed", id, seq: 3, image, timings: { queuedMs: 1, generationMs: 2, totalMs: 3 } },
      { type: "failed", id, seq: 3, error: { code: "internal", message: "x", retryable: false }, attempts: 1 },
      { type: "canceled", id, seq: 3 },
      { type: "pong" },
      { type: "status", id, seq: 2, status: "processing", progress: 40, stage: "rendering" },
      { type: "canceled", id, seq: 0 },
      { type: "completed", id, seq: 3, timings: { queuedMs: 1, generationMs: 2, totalMs: 3 } },
      { id, seq: 3 },
      null,
    ];
    expect(disagreements(serverMessage, inputs)).toEqual([]);
  });

  test("the error envelope", () => {
    const inputs = [
      { error: { code: "not_found", message: "No generation" } },
      { error: { code: "invalid_request", message: "bad", details: [{ path: "width", message: "must be…" }] } },
      { error: { code: "teapot", message: "x" } },
      { error: { code: "internal", message: "" } },
      { error: { code: "internal", message: "x", stack: "at …" } },
    ];
    expect(disagreements(apiErrorBody, inputs)).toEqual([]);
  });
});

describe("JSON Schema output", () => {
  test("fixed defaults are published; a computed one (the random seed) is described instead", () => {
    const properties = (submitSchema(publicOnly).jsonSchema() as { properties: Record<string, { default?: unknown }> })
      .properties;
    expect(properties.width?.default).toBe(1024);
    expect(properties.style?.default).toBe("pixel-art");
    expect(properties.seed).not.toHaveProperty("default");
    expect(properties.seed).toHaveProperty("description");
    expect(withDefault(integer(), 3).parse(undefined)).toEqual({ ok: true, value: 3 });
  });

  test("named schemas are emitted once and referred to; a second, different schema under a name throws", () => {
    const point = named("Point", object({ x: integer() }));
    const registry = schemaRegistry();
    const pair = object({ a: point, b: point });
    expect(pair.jsonSchema(registry.context)).toMatchObject({
      properties: { a: { $ref: "#/components/schemas/Point" }, b: { $ref: "#/components/schemas/Point" } },
    });
    expect(Object.keys(registry.schemas)).toEqual(["Point"]);
    expect(point.jsonSchema()).toMatchObject({ type: "object" });
    expect(() => named("Point", string()).jsonSchema(registry.context)).toThrow("two different schemas");
  });

  test("a pattern with flags cannot be published faithfully, so it is refused", () => {
    expect(patternOf(/^a$/)).toBe("^a$");
    expect(() => patternOf(/^a$/i)).toThrow("flags");
  });

  test("described, nullable and discriminated keep their validation", () => {
    expect(described(integer({ min: 1 }), "n").parse(0).ok).toBe(false);
    expect(nullable(string()).parse(null)).toEqual({ ok: true, value: null });
    expect(nullable(string()).jsonSchema()).toEqual({ anyOf: [{ type: "string" }, { type: "null" }] });
    const shape = discriminated("kind", [object({ kind: literal("a"), n: integer() }), object({ kind: literal("b") })]);
    expect(shape.parse({ kind: "a", n: "x" })).toEqual({
      ok: false,
      issues: [{ path: "n", message: "must be an integer, got string" }],
    });
    expect(shape.parse({ kind: "c" })).toEqual({
      ok: false,
      issues: [{ path: "kind", message: "must be one of a, b" }],
    });
  });
});
