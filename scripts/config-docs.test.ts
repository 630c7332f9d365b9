import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ENV_EXAMPLE, renderEnvExample } from "../infrastructure/env-file.ts";
import { GENERATED, withTable } from "./config-docs.ts";

test(".env.example lists every variable with its default (run npm run config:docs if this fails)", () => {
  expect(readFileSync(ENV_EXAMPLE, "utf8")).toBe(renderEnvExample());
});

test.each(GENERATED.map((g) => [g.name, g] as const))(
  "the generated %s table is current (run npm run config:docs if this fails)",
  (_name, { file, name, render }) => {
    const text = readFileSync(file, "utf8");
    expect(text).toBe(withTable(text, name, render()));
  },
);
