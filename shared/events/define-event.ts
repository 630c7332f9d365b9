import { ProgrammerError } from "../errors.ts";
import { formatIssues, type Infer, type Result, type Schema } from "../schema/schema.ts";

/**
 * One definition per event, used by the producer to build and by the consumer to parse,
 * in the manner of inngest-js: the wire shape cannot drift between the two sides.
 */
export interface EventDefinition<T extends { v: 1 }> {
  readonly name: string;
  readonly schema: Schema<T>;
  parse(value: unknown): Result<T>;
  /** Builds a valid event; invalid fields here are a bug in our code, so it throws. */
  create(fields: Omit<T, "v">): T;
  encode(event: T): string;
  decode(text: string | Uint8Array | null | undefined): Result<T>;
}

const decoder = new TextDecoder();

export function defineEvent<S extends Schema<{ v: 1 }>>(name: string, schema: S): EventDefinition<Infer<S>> {
  type T = Infer<S>;
  const parse = (value: unknown) => schema.parse(value) as Result<T>;
  return {
    name,
    schema: schema as unknown as Schema<T>,
    parse,
    create(fields) {
      const result = parse({ v: 1, ...fields });
      if (!result.ok) throw new ProgrammerError(`invalid ${name} event: ${formatIssues(result.issues)}`);
      return result.value;
    },
    encode: (event) => JSON.stringify(event),
    decode(text) {
      if (text === null || text === undefined) return { ok: false, issues: [{ path: "", message: "is empty" }] };
      let value: unknown;
      try {
        value = JSON.parse(typeof text === "string" ? text : decoder.decode(text));
      } catch {
        return { ok: false, issues: [{ path: "", message: "is not valid JSON" }] };
      }
      return parse(value);
    },
  };
}
