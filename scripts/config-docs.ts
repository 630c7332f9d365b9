/**
 * `npm run config:docs`: regenerates .env.example, the README's configuration table and the
 * metrics table of docs/operations.md, each from its one source in code.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_EXAMPLE, renderConfigTable, renderEnvExample } from "../infrastructure/env-file.ts";
import { ROOT } from "../infrastructure/paths.ts";
import { renderMetricsTable } from "../worker/runtime/metric-catalogue.ts";

export const README = join(ROOT, "README.md");
export const OPERATIONS = join(ROOT, "docs/operations.md");

/** A generated block of a Markdown file, between two marker comments. */
export const GENERATED = [
  { file: README, name: "config", render: renderConfigTable },
  { file: OPERATIONS, name: "metrics", render: renderMetricsTable },
] as const;

export function withTable(text: string, name: string, table: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the file lacks the ${start} … ${end} markers`);
  return `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`;
}

if (import.meta.main) {
  writeFileSync(ENV_EXAMPLE, renderEnvExample());
  for (const { file, name, render } of GENERATED)
    writeFileSync(file, withTable(readFileSync(file, "utf8"), name, render()));
  console.log("wrote .env.example, the README configuration table and the docs/operations.md metrics table");
}
