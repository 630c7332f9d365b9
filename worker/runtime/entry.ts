/**
 * What every container-tier entry point does first: parse the sections of configuration it
 * needs from the environment, stopping with one line on a bad value, and build its logger.
 */
import { readFileSync } from "node:fs";
import {
  type Config,
  ConfigError,
  type Env,
  parseConfig,
  type SectionConfig,
} from "../../shared/config/parse-config.ts";
import type { SectionName } from "../../shared/config/variables.ts";
import { createLogger, type Logger, resolveLogFormat } from "../../shared/logger.ts";

export function configOrExit<S extends SectionName>(env: Env, names: readonly S[]): Config<S | "log"> {
  return orExit(() => parseConfig(env, [...names, "log"] as (S | "log")[]));
}

export function loggerFor(config: Config<"log">, component: string): Logger {
  const format = resolveLogFormat(config.log.format, {
    isTTY: Boolean(process.stdout.isTTY),
    noColor: Boolean(process.env.NO_COLOR),
  });
  return createLogger({ level: config.log.level, format, fields: { component, pid: process.pid } });
}

/** The CA PEM named by KAFKA_SSL_CA_FILE, or undefined to trust the system store. */
export function kafkaCa(kafka: SectionConfig<"kafka">): string | undefined {
  if (!kafka.ssl || !kafka.sslCaFile) return undefined;
  try {
    return readFileSync(kafka.sslCaFile, "utf8");
  } catch (error) {
    console.error(`Invalid configuration: KAFKA_SSL_CA_FILE cannot be read (${(error as Error).message})`);
    process.exit(1);
  }
}

/** Runs a builder that may reject its configuration; a ConfigError ends the process with one line. */
export function orExit<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
