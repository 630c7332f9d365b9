import { PipelineError } from "../errors.ts";
import { type SectionName, type Sections, sections, type Variable } from "./variables.ts";

type ValueOf<V> = V extends Variable<infer T> ? T : never;
export type SectionConfig<S extends SectionName> = { -readonly [K in keyof Sections[S]]: ValueOf<Sections[S][K]> };
export type Config<S extends SectionName> = { [K in S]: SectionConfig<K> };

export class ConfigError extends PipelineError {
  constructor(readonly problems: string[]) {
    super("invalid_config", `Invalid configuration: ${problems.join("; ")}`, { retryable: false });
    this.name = "ConfigError";
  }
}

export type Env = Record<string, string | undefined>;

/** Parses the named sections of `env`; reports every problem at once, never a secret's value. */
export function parseConfig<S extends SectionName>(env: Env, names: readonly S[]): Config<S> {
  const problems: string[] = [];
  const out: Record<string, Record<string, unknown>> = {};
  for (const name of names) {
    const section: Record<string, unknown> = {};
    for (const [key, variable] of Object.entries(sections[name]) as [string, Variable<unknown>][]) {
      const raw = env[variable.env] ?? variable.default;
      if (raw === undefined) {
        problems.push(`${variable.env} is required (${variable.doc})`);
        continue;
      }
      const result = variable.parse(raw);
      if ("error" in result) {
        const message = variable.secret ? result.error.replace(raw, "[redacted]") : result.error;
        problems.push(`${variable.env} ${message}`);
      } else section[key] = result.value;
    }
    out[name] = section;
  }
  const kafka = out.kafka as { saslUsername?: string; saslPassword?: string } | undefined;
  if (kafka?.saslUsername && !kafka.saslPassword)
    problems.push("KAFKA_SASL_PASSWORD is required when KAFKA_SASL_USERNAME is set");
  if (problems.length) throw new ConfigError(problems);
  return out as Config<S>;
}

export function allVariables(): Variable<unknown>[] {
  const seen = new Set<string>();
  const list: Variable<unknown>[] = [];
  for (const section of Object.values(sections))
    for (const variable of Object.values(section) as Variable<unknown>[])
      if (!seen.has(variable.env)) {
        seen.add(variable.env);
        list.push(variable);
      }
  return list;
}
