import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ENV_EXAMPLE, renderEnvExample } from "../infrastructure/env-file.ts";
import { README, readmeWithTable } from "./config-docs.ts";

test(".env.example lists every variable with its default (run npm run config:docs if this fails)", () => {
  expect(readFileSync(ENV_EXAMPLE, "utf8")).toBe(renderEnvExample());
});

test("the README's configuration table is current (run npm run config:docs if this fails)", () => {
  const readme = readFileSync(README, "utf8");
  expect(readme).toBe(readmeWithTable(readme));
});
