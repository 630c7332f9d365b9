/** `npm run config:docs`: regenerates .env.example and the README's configuration table. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_EXAMPLE, renderConfigTable, renderEnvExample } from "../infrastructure/env-file.ts";
import { ROOT } from "../infrastructure/paths.ts";

export const README = join(ROOT, "README.md");
export const START = "<!-- config:start -->";
export const END = "<!-- config:end -->";

export function readmeWithTable(readme: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return `${readme.slice(0, from + START.length)}\n${renderConfigTable()}\n${readme.slice(to)}`;
}

if (import.meta.main) {
  writeFileSync(ENV_EXAMPLE, renderEnvExample());
  writeFileSync(README, readmeWithTable(readFileSync(README, "utf8")));
  console.log("wrote .env.example and the README configuration table");
}
