/**
 * What the OpenAPI 3.1 documents (docs/api.md) are made of: schemas come from the validators the
 * code runs (`Schema.jsonSchema`), error answers from shared/api-errors.ts's table. The documents
 * themselves (`edge/openapi-document.ts`, `worker/http/openapi-document.ts`) only arrange them.
 */
import { API_ERRORS, type ApiErrorCode, type ApiErrorEntry, apiErrorBody } from "../api-errors.ts";
import { type JsonSchema, schemaRegistry } from "../schema/json-schema.ts";
import type { Schema } from "../schema/schema.ts";

export type OpenApiObject = { [field: string]: unknown };
export interface OpenApiDocument extends OpenApiObject {
  openapi: "3.1.0";
  paths: Record<string, Record<string, OpenApiObject>>;
  components: { schemas: Record<string, JsonSchema>; responses: Record<string, OpenApiObject> } & OpenApiObject;
}

export const ERROR_RESPONSE_REF = "#/components/responses/";

/**
 * `fixedMessages`: the server answers each code with the table's fixed `message` (the edge), so
 * each error response shows it as its example; the workers' answers name what went wrong.
 */
export function createOpenApiBuilder(options: { fixedMessages?: boolean } = {}) {
  const registry = schemaRegistry();
  const responses: Record<string, OpenApiObject> = {};
  const schema = (s: Schema<unknown>): JsonSchema => s.jsonSchema(registry.context);

  /** A response (or request body) carrying JSON of `s`. */
  const json = (s: Schema<unknown>, description: string, extra: OpenApiObject = {}): OpenApiObject => ({
    description,
    ...extra,
    content: { "application/json": { schema: schema(s) } },
  });

  /** The error answers an operation can give, each a shared response named by its code. */
  const errors = (...codes: ApiErrorCode[]): Record<string, OpenApiObject> => {
    const out: Record<string, OpenApiObject> = {};
    for (const code of codes) {
      const entry: ApiErrorEntry = API_ERRORS[code];
      const status = String(entry.status);
      if (out[status]) throw new Error(`${code} and another code share status ${status}`);
      const example = options.fixedMessages ? { example: { error: { code, message: entry.message } } } : {};
      responses[code] ??= {
        description: `\`${code}\`: ${entry.meaning}`,
        ...(entry.retryAfter
          ? { headers: { "Retry-After": { description: entry.retryAfter, schema: { type: "integer", minimum: 1 } } } }
          : {}),
        content: { "application/json": { schema: schema(apiErrorBody), ...example } },
      };
      out[status] = { $ref: `${ERROR_RESPONSE_REF}${code}` };
    }
    return out;
  };

  const document = (fields: OpenApiObject & { paths: OpenApiDocument["paths"] }): OpenApiDocument => {
    const { paths, components = {}, ...rest } = fields as OpenApiObject & { paths: OpenApiDocument["paths"] };
    return {
      openapi: "3.1.0",
      ...rest,
      paths,
      components: { ...(components as OpenApiObject), schemas: registry.schemas, responses },
    };
  };

  return { schema, json, errors, document };
}
export type OpenApiBuilder = ReturnType<typeof createOpenApiBuilder>;

/** A Hono route path as an OpenAPI path: `/:id` → `/{id}`, `/:key{.+}` → `/{key}`. */
export const openApiPath = (honoPath: string): string => honoPath.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");

/** A string schema's JSON form as a parameter schema (path, query and header values are text). */
export const parameter = (
  name: string,
  location: "path" | "query" | "header",
  schema: JsonSchema,
  description: string,
  required = location === "path",
): OpenApiObject => ({ name, in: location, required, description, schema });
