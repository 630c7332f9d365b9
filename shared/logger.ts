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

const consoleSink: LogSink = (level, line) => {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
};

export function createLogger(options: { level?: LogLevel; fields?: LogFields; sink?: LogSink } = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const base = options.fields ?? {};
  const sink = options.sink ?? consoleSink;
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const record = redact({ ...base, ...fields }) as LogFields;
    sink(level, JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...record }));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ level: options.level, fields: { ...base, ...fields }, sink }),
  };
}
