/**
 * JSON Schema output of our validators (`Schema.jsonSchema()` in schema.ts), in the 2020-12
 * dialect that OpenAPI 3.1 uses for its schemas.
 */
export type JsonSchema = { [keyword: string]: unknown };

/** Lets a named schema be emitted once and referred to by `$ref` everywhere it is used. */
export interface JsonSchemaContext {
  ref(name: string, emit: () => JsonSchema): JsonSchema;
}

/**
 * A context that collects named schemas as OpenAPI components (`#/components/schemas/<name>`).
 * Two different schemas under one name are a bug in the document's code, so that throws.
 */
export function schemaRegistry(base = "#/components/schemas/") {
  const schemas: Record<string, JsonSchema> = {};
  const building = new Set<string>();
  const context: JsonSchemaContext = {
    ref(name, emit) {
      if (!(name in schemas) && !building.has(name)) {
        building.add(name);
        const emitted = emit();
        building.delete(name);
        schemas[name] = emitted;
      } else if (name in schemas && JSON.stringify(schemas[name]) !== JSON.stringify(emit())) {
        throw new Error(`two different schemas are both named ${name}`);
      }
      return { $ref: `${base}${name}` };
    },
  };
  return { context, schemas };
}

/**
 * A RegExp as a JSON Schema `pattern` (ECMA-262, not implicitly anchored: ours carry `^…$`).
 * Flags have no place in a pattern, so a flagged RegExp cannot be published faithfully.
 */
export function patternOf(regex: RegExp): string {
  if (regex.flags.replace("u", "") !== "") throw new Error(`pattern ${regex} has flags JSON Schema cannot express`);
  return regex.source;
}
