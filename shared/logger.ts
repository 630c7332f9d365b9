/**
 * A structured JSON-lines logger on plain `console`, so it runs on Workers, Deno and Bun.
 * Keys that look like secrets are redacted here, once, rather than trusted to each caller.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|credential/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; retryable?: unknown };
    return { name: e.name, message: e.message, code: e.code, retryable: e.retryable };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
  return out;
}

export type LogSink = (level: LogLevel, line: string) => void;
/** `json` for machines (containers, CI, pipes); `pretty` for a person at a terminal. */
export type LogFormat = "json" | "pretty";

/** `auto` is pretty only when the output is a terminal and colour is not turned off (NO_COLOR). */
export function resolveLogFormat(setting: LogFormat | "auto", output: { isTTY: boolean; noColor: boolean }): LogFormat {
  if (setting !== "auto") return setting;
  return output.isTTY && !output.noColor ? "pretty" : "json";
}

const ANSI = { reset: "\x1b[0m", dim: "\x1b[2m", cyan: "\x1b[36m", bold: "\x1b[1m" };
const LEVEL_STYLE: Record<LogLevel, string> = {
  debug: "\x1b[90mDEBUG",
  info: "\x1b[32mINFO ",
  warn: "\x1b[33mWARN ",
  error: "\x1b[31mERROR",
};

function formatValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value;
  if (value && typeof value === "object" && "message" in value && "name" in value) {
    const e = value as { name: unknown; message: unknown; code?: unknown };
    return JSON.stringify(`${e.name}: ${e.message}${e.code ? ` (${e.code})` : ""}`);
  }
  return JSON.stringify(value);
}

/** One readable line: time, level, component, message, then the remaining fields as key=value. */
export function prettyLine(level: LogLevel, time: Date, message: string, fields: LogFields): string {
  const { component, ...rest } = fields;
  const clock = time.toISOString().slice(11, 23);
  const who = typeof component === "string" ? `${ANSI.cyan}${component.padEnd(18)}${ANSI.reset} ` : "";
  const tail = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(" ");
  const text = level === "error" || level === "warn" ? `${ANSI.bold}${message}${ANSI.reset}` : message;
  return `${ANSI.dim}${clock}${ANSI.reset} ${LEVEL_STYLE[level]}${ANSI.reset} ${who}${text}${tail ? ` ${ANSI.dim}${tail}${ANSI.reset}` : ""}`;
}

const consoleSink: LogSink = (level, line) => {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
};

export interface LoggerOptions {
  level?: LogLevel;
  fields?: LogFields;
  sink?: LogSink;
  format?: LogFormat;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const base = options.fields ?? {};
  const sink = options.sink ?? consoleSink;
  const pretty = options.format === "pretty";
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const record = redact({ ...base, ...fields }) as LogFields;
    const time = new Date();
    sink(
      level,
      pretty
        ? prettyLine(level, time, message, record)
        : JSON.stringify({ time: time.toISOString(), level, msg: message, ...record }),
    );
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields }, sink }),
  };
}
