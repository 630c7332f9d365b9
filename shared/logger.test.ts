import { expect, test } from "bun:test";
import { createLogger } from "./logger.ts";

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
