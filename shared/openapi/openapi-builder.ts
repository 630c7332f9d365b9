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

  /**
   * The error answers an operation can give, each a shared response named by its code; codes
   * sharing a status (`rate_limited` and `too_many_in_flight` are both 429) share one response
   * named by all of them, which describes and exemplifies each.
   */
  const errors = (...codes: ApiErrorCode[]): Record<string, OpenApiObject> => {
    const byStatus = new Map<string, ApiErrorCode[]>();
    for (const code of codes) {
      const status = String(API_ERRORS[code].status);
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    const out: Record<string, OpenApiObject> = {};
    for (const [status, shared] of byStatus) {
      const name = shared.join("_or_");
      const entries: [ApiErrorCode, ApiErrorEntry][] = shared.map((code) => [code, API_ERRORS[code]]);
      const retryAfter = entries.flatMap(([, entry]) => (entry.retryAfter ? [entry.retryAfter] : []));
      const examples = Object.fromEntries(
        entries.map(([code, entry]) => [code, { value: { error: { code, message: entry.message } } }]),
      );
      const example = !options.fixedMessages
        ? {}
        : entries.length === 1
          ? { example: examples[shared[0] as string]?.value }
          : { examples };
      responses[name] ??= {
        description: entries.map(([code, entry]) => `\`${code}\`: ${entry.meaning}`).join(" "),
        ...(retryAfter.length > 0
          ? {
              headers: {
                "Retry-After": { description: retryAfter.join(" "), schema: { type: "integer", minimum: 1 } },
              },
            }
          : {}),
        content: { "application/json": { schema: schema(apiErrorBody), ...example } },
      };
      out[status] = { $ref: `${ERROR_RESPONSE_REF}${name}` };
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
