/**
 * A small validation library: one schema both builds values (with defaults) and parses
 * untrusted input into field-level issues. We keep our own instead of a dependency because
 * the edge bundle must stay tiny and every message here is part of the public error contract.
 * Each schema also states its rules as JSON Schema (2020-12, the dialect of OpenAPI 3.1), so
 * the published OpenAPI documents come from the very validators the code runs.
 */
import { isWellFormedText } from "../unicode.ts";
import { type JsonSchema, type JsonSchemaContext, patternOf } from "./json-schema.ts";

export type { JsonSchema, JsonSchemaContext } from "./json-schema.ts";

export interface Issue {
  path: string;
  message: string;
}
export type Result<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

export interface Schema<T> {
  /** `path` prefixes issue paths, e.g. "params.width". */
  parse(input: unknown, path?: string): Result<T>;
  /** The same rules as JSON Schema; `context` turns named schemas into shared `$ref`s. */
  jsonSchema(context?: JsonSchemaContext): JsonSchema;
  readonly optional?: boolean;
}
/** A field that may be absent from its object (it has a default or may stay undefined). */
export type OptionalSchema<T> = Schema<T> & { readonly optional: true };
export type Infer<S> = S extends Schema<infer T> ? T : never;

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(path: string, message: string): Result<T> => ({ ok: false, issues: [{ path, message }] });
const describe = (input: unknown) => (input === null ? "null" : Array.isArray(input) ? "array" : typeof input);

export const NOT_UNICODE = "must be well-formed Unicode text (no lone surrogates)";
export const HAS_NUL = "must not contain NUL characters";

export function string(
  rules: { min?: number; max?: number; trim?: boolean; pattern?: RegExp; patternMessage?: string } = {},
): Schema<string> {
  return {
    parse(input, path = "") {
      if (typeof input !== "string") return fail(path, `must be a string, got ${describe(input)}`);
      // A lone UTF-16 surrogate is not Unicode: JSON carries it as an escape that strict decoders
      // (Redis's cjson, Postgres, many clients) refuse, so it must never get past validation.
      if (!isWellFormedText(input)) return fail(path, NOT_UNICODE);
      // NUL passes JSON and Redis but PostgreSQL text refuses it: the same trap one layer later.
      if (input.includes("\u0000")) return fail(path, HAS_NUL);
      const value = rules.trim ? input.trim() : input;
      if (rules.min !== undefined && value.length < rules.min)
        return fail(path, rules.min === 1 ? "must not be empty" : `must be at least ${rules.min} characters`);
      if (rules.max !== undefined && value.length > rules.max)
        return fail(path, `must be at most ${rules.max} characters`);
      if (rules.pattern && !rules.pattern.test(value))
        return fail(path, rules.patternMessage ?? `must match ${rules.pattern}`);
      return ok(value);
    },
    jsonSchema: () => ({
      type: "string",
      ...(rules.min !== undefined ? { minLength: rules.min } : {}),
      ...(rules.max !== undefined ? { maxLength: rules.max } : {}),
      // After trimming, "not empty" means "has a non-space character" (JS trim and \s agree).
      ...(rules.pattern ? { pattern: patternOf(rules.pattern) } : rules.trim && rules.min ? { pattern: "\\S" } : {}),
      ...(rules.trim
        ? { description: "Surrounding whitespace is trimmed; the length rules apply to what remains." }
        : {}),
    }),
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  return {
    parse(input, path = "") {
      if (typeof input === "string" && (values as readonly string[]).includes(input)) return ok(input as T[number]);
      return fail(path, `must be one of ${values.join(", ")}`);
    },
    jsonSchema: () => ({ type: "string", enum: [...values] }),
  };
}

export function literal<const T extends string | number | boolean>(expected: T): Schema<T> & { readonly value: T } {
  return {
    value: expected,
    parse: (input, path = "") =>
      input === expected ? ok(expected) : fail(path, `must be ${JSON.stringify(expected)}`),
    jsonSchema: () => ({ type: Number.isInteger(expected) ? "integer" : typeof expected, const: expected }),
  };
}

export function integer(rules: { min?: number; max?: number; multipleOf?: number } = {}): Schema<number> {
  return {
    parse(input, path = "") {
      if (typeof input !== "number" || !Number.isInteger(input))
        return fail(path, `must be an integer, got ${describe(input)}`);
      if (rules.min !== undefined && input < rules.min) return fail(path, `must be at least ${rules.min}`);
      if (rules.max !== undefined && input > rules.max) return fail(path, `must be at most ${rules.max}`);
      if (rules.multipleOf !== undefined && input % rules.multipleOf !== 0)
        return fail(path, `must be a multiple of ${rules.multipleOf}`);
      return ok(input);
    },
    jsonSchema: () => ({
      type: "integer",
      ...(rules.min !== undefined ? { minimum: rules.min } : {}),
      ...(rules.max !== undefined ? { maximum: rules.max } : {}),
      ...(rules.multipleOf !== undefined ? { multipleOf: rules.multipleOf } : {}),
    }),
  };
}

export function boolean(): Schema<boolean> {
  return {
    parse: (input, path = "") => (typeof input === "boolean" ? ok(input) : fail(path, "must be a boolean")),
    jsonSchema: () => ({ type: "boolean" }),
  };
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
export function isoDate(): Schema<string> {
  return {
    parse(input, path = "") {
      if (typeof input !== "string" || !ISO_INSTANT.test(input) || Number.isNaN(Date.parse(input)))
        return fail(path, "must be an ISO-8601 UTC timestamp");
      return ok(input);
    },
    jsonSchema: () => ({ type: "string", format: "date-time", pattern: patternOf(ISO_INSTANT) }),
  };
}

export function url(rules: { protocols: readonly string[] }): Schema<string> {
  return {
    parse(input, path = "") {
      if (typeof input !== "string") return fail(path, "must be a URL string");
      if (!isWellFormedText(input)) return fail(path, NOT_UNICODE);
      let parsed: URL;
      try {
        parsed = new URL(input);
      } catch {
        return fail(path, "must be an absolute URL");
      }
      if (!rules.protocols.includes(parsed.protocol)) return fail(path, `must use ${rules.protocols.join(" or ")}`);
      return ok(input);
    },
    jsonSchema: () => ({
      type: "string",
      format: "uri",
      description: `An absolute URL using ${rules.protocols.join(" or ")}`,
    }),
  };
}

export function optional<T>(schema: Schema<T>): OptionalSchema<T | undefined> {
  return {
    optional: true,
    parse: (input, path) => (input === undefined ? ok(undefined) : schema.parse(input, path)),
    jsonSchema: (context) => schema.jsonSchema(context),
  };
}

/**
 * Missing (undefined) input takes the default; the default itself is not validated twice.
 * A fixed value is published as the JSON Schema `default`; a function (a random seed) is not.
 */
export function withDefault<T>(
  schema: Schema<T>,
  fallback: T | (() => T),
): OptionalSchema<T> & { readonly defaulted: true } {
  const make = typeof fallback === "function" ? (fallback as () => T) : () => fallback;
  return {
    optional: true,
    defaulted: true,
    parse: (input, path) => (input === undefined ? ok(make()) : schema.parse(input, path)),
    jsonSchema: (context) => ({
      ...schema.jsonSchema(context),
      ...(typeof fallback === "function" ? {} : { default: fallback }),
    }),
  };
}

/** `null` is a value here (e.g. "no next page"); anything else must match `schema`. */
export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return {
    parse: (input, path) => (input === null ? ok(null) : schema.parse(input, path)),
    jsonSchema: (context) => ({ anyOf: [schema.jsonSchema(context), { type: "null" }] }),
  };
}

export function array<T>(item: Schema<T>, rules: { max?: number } = {}): Schema<T[]> {
  return {
    parse(input, path = "") {
      if (!Array.isArray(input)) return fail(path, `must be an array, got ${describe(input)}`);
      if (rules.max !== undefined && input.length > rules.max)
        return fail(path, `must have at most ${rules.max} items`);
      const out: T[] = [];
      const issues: Issue[] = [];
      input.forEach((value, i) => {
        const r = item.parse(value, `${path}[${i}]`);
        if (r.ok) out.push(r.value);
        else issues.push(...r.issues);
      });
      return issues.length ? { ok: false, issues } : ok(out);
    },
    jsonSchema: (context) => ({
      type: "array",
      items: item.jsonSchema(context),
      ...(rules.max !== undefined ? { maxItems: rules.max } : {}),
    }),
  };
}

type Shape = Record<string, Schema<unknown>>;
/** Keys that may be absent from the parsed value: optional ones, but not those with a default. */
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { defaulted: true } ? never : S[K] extends { optional: true } ? K : never;
}[keyof S];
export type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

/** Unknown keys are rejected: a misspelt field should be an error, not silently ignored. */
export function object<S extends Shape>(
  shape: S,
  rules: { allowUnknown?: boolean } = {},
): Schema<ObjectOf<S>> & { shape: S } {
  return {
    shape,
    parse(input, path = "") {
      if (typeof input !== "object" || input === null || Array.isArray(input))
        return fail(path, `must be an object, got ${describe(input)}`);
      const record = input as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const issues: Issue[] = [];
      const at = (key: string) => (path ? `${path}.${key}` : key);
      for (const [key, schema] of Object.entries(shape)) {
        const value = Object.hasOwn(record, key) ? record[key] : undefined;
        if (value === undefined && !schema.optional) {
          issues.push({ path: at(key), message: "is required" });
          continue;
        }
        const r = schema.parse(value, at(key));
        if (!r.ok) issues.push(...r.issues);
        else if (r.value !== undefined) out[key] = r.value;
      }
      if (!rules.allowUnknown)
        // Own keys only: `key in shape` would admit "__proto__" and "constructor" from Object.prototype.
        for (const key of Object.keys(record))
          if (!Object.hasOwn(shape, key)) issues.push({ path: at(key), message: "is not a known field" });
      return issues.length ? { ok: false, issues } : ok(out as ObjectOf<S>);
    },
    jsonSchema(context) {
      const properties: Record<string, JsonSchema> = {};
      for (const [key, schema] of Object.entries(shape)) properties[key] = schema.jsonSchema(context);
      const required = Object.keys(shape).filter((key) => !shape[key]?.optional);
      return {
        type: "object",
        properties,
        ...(required.length ? { required } : {}),
        ...(rules.allowUnknown ? {} : { additionalProperties: false }),
      };
    },
  };
}

type Tagged<K extends string> = Schema<Record<K, string>> & { shape: Record<K, { readonly value: string }> };

/**
 * One of several object schemas told apart by a literal field (`type` of live messages), so an
 * error names the problem within the variant the input claims to be.
 */
export function discriminated<K extends string, const V extends readonly Tagged<K>[]>(
  key: K,
  variants: V,
): Schema<Infer<V[number]>> {
  const byTag = new Map(variants.map((v) => [v.shape[key].value, v]));
  return {
    parse(input, path = "") {
      const tag = typeof input === "object" && input !== null ? (input as Record<string, unknown>)[key] : undefined;
      const variant = typeof tag === "string" ? byTag.get(tag) : undefined;
      if (!variant) return fail(path ? `${path}.${key}` : key, `must be one of ${[...byTag.keys()].join(", ")}`);
      return variant.parse(input, path) as Result<Infer<V[number]>>;
    },
    jsonSchema: (context) => ({ oneOf: variants.map((v) => v.jsonSchema(context)) }),
  };
}

/** Publishes `schema` once under `name` (an OpenAPI component) and refers to it from every use. */
export function named<S extends Schema<unknown>>(name: string, schema: S): S {
  return {
    ...schema,
    jsonSchema: (context?: JsonSchemaContext) =>
      context ? context.ref(name, () => schema.jsonSchema(context)) : schema.jsonSchema(),
  };
}

/** Adds a description for readers of the published schema; validation is unchanged. */
export function described<S extends Schema<unknown>>(schema: S, description: string): S {
  return { ...schema, jsonSchema: (context?: JsonSchemaContext) => ({ ...schema.jsonSchema(context), description }) };
}

export function formatIssues(issues: Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path} ${i.message}` : i.message)).join("; ");
}
