import { expect, test } from "bun:test";
import { createLogger, resolveLogFormat } from "./logger.ts";

test("writes JSON lines at or above the level and redacts secret-looking keys", () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", fields: { component: "t" }, sink: (_l, line) => lines.push(line) });
  logger.debug("hidden");
  logger.child({ request: "r1" }).info("hello", { password: "hunter2", nested: { apiKey: "k", ok: 1 } });
  expect(lines).toHaveLength(1);
  const record = JSON.parse(lines[0] ?? "{}");
  expect(record).toMatchObject({ level: "info", msg: "hello", component: "t", request: "r1", password: "[redacted]" });
  expect(record.nested).toEqual({ apiKey: "[redacted]", ok: 1 });
  expect(lines[0]).not.toContain("hunter2");
});

test("pretty lines are readable: time, level, component, message, then fields; secrets still redacted", () => {
  const lines: string[] = [];
  const logger = createLogger({
    format: "pretty",
    fields: { component: "edge" },
    sink: (_l, line) => lines.push(line),
  });
  logger.warn("could not reach Redis", { url: "http://x", token: "t0ps3cret", error: new Error("boom") });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colours to read the text
  const text = (lines[0] ?? "").replace(/\x1b\[[0-9;]*m/g, "");
  expect(text).toMatch(
    /^\d\d:\d\d:\d\d\.\d{3} WARN {2}edge +could not reach Redis url=http:\/\/x token=\[redacted\] error="Error: boom"$/,
  );
  expect(lines[0]).toContain("\x1b[33m");
});

test("auto log format: pretty only on a terminal without NO_COLOR", () => {
  expect(resolveLogFormat("auto", { isTTY: true, noColor: false })).toBe("pretty");
  expect(resolveLogFormat("auto", { isTTY: false, noColor: false })).toBe("json");
  expect(resolveLogFormat("auto", { isTTY: true, noColor: true })).toBe("json");
  expect(resolveLogFormat("pretty", { isTTY: false, noColor: true })).toBe("pretty");
});
