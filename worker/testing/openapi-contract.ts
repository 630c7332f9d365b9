/**
 * Test helpers that hold the code to its OpenAPI documents: which routes and error answers a
 * document lists, and whether a real answer matches what it documents (checked by Ajv against the
 * document's own JSON Schemas).
 */
import Ajv2020 from "ajv/dist/2020.js";
import { ERROR_RESPONSE_REF, type OpenApiDocument, openApiPath } from "../../shared/openapi/openapi-builder.ts";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** `METHOD /path` of every operation a document lists. */
export const documentedOperations = (document: OpenApiDocument): string[] =>
  Object.entries(document.paths)
    .flatMap(([path, item]) =>
      Object.keys(item).flatMap((m) => (METHODS.includes(m) ? [`${m.toUpperCase()} ${path}`] : [])),
    )
    .sort();

/** `METHOD /path` of every route a Hono app serves; `use()` middleware (ALL on a wildcard) is not a route. */
export const servedOperations = (routes: readonly { method: string; path: string }[]): string[] =>
  [
    ...new Set(
      routes
        .filter((r) => !(r.method === "ALL" && r.path.endsWith("*")))
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    ),
  ].sort();

/** Every error answer a document lists: `{ operation, status, code }`. */
export function documentedErrors(document: OpenApiDocument) {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) =>
      Object.entries((operation as { responses?: Record<string, { $ref?: string }> }).responses ?? {}).flatMap(
        ([status, response]) =>
          // A response shared by codes of one status is named by all of them, joined by "_or_".
          response.$ref?.startsWith(ERROR_RESPONSE_REF)
            ? response.$ref
                .slice(ERROR_RESPONSE_REF.length)
                .split("_or_")
                .map((code) => ({
                  operation: `${method.toUpperCase()} ${path}`,
                  status,
                  code,
                  response: (response.$ref as string).slice(ERROR_RESPONSE_REF.length),
                }))
            : [],
      ),
    ),
  );
}

const pointerToken = (token: string) => token.replaceAll("~", "~0").replaceAll("/", "~1");

/** Checks real answers against a document; each check returns its problems, none when it conforms. */
export function contractOf(document: OpenApiDocument, name: string) {
  const id = `https://contract.invalid/${name}`;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ ...document, $id: id });
  const validate = (pointer: string, value: unknown): string[] => {
    const check = ajv.getSchema(`${id}#${pointer}`) ?? ajv.compile({ $ref: `${id}#${pointer}` });
    return check(value) ? [] : (check.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
  };
  return {
    /** A response to `METHOD /path-template` with this status and (JSON) body. */
    response(operation: string, status: number, body?: unknown, contentType = "application/json"): string[] {
      const [method = "", path = ""] = operation.split(" ");
      const responses = (document.paths[path]?.[method.toLowerCase()] as { responses?: Record<string, object> })
        ?.responses;
      const response = responses?.[String(status)] as { $ref?: string } | undefined;
      if (!response) return [`${operation} does not document a ${status}`];
      const at = response.$ref
        ? response.$ref.slice(1)
        : `/paths/${pointerToken(path)}/${method.toLowerCase()}/responses/${status}`;
      if (body === undefined) return [];
      return validate(`${at}/content/${pointerToken(contentType)}/schema`, body).map(
        (p) => `${operation} ${status}: ${p}`,
      );
    },
    /** A value of a named schema (`components.schemas`), e.g. a live message. */
    schema(schemaName: string, value: unknown): string[] {
      return validate(`/components/schemas/${schemaName}`, value).map((p) => `${schemaName}: ${p}`);
    },
  };
}
