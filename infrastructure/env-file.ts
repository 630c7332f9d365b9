/**
 * `.env.example` is generated from shared/config/variables.ts; `.env` is made from it on first
 * start with fresh random secrets, because the pipeline has no unsigned or "dev" bypass.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allVariables } from "../shared/config/parse-config.ts";
import { ROOT } from "./paths.ts";

export const ENV_EXAMPLE = join(ROOT, ".env.example");
export const ENV_FILE = join(ROOT, ".env");

export function renderEnvExample(): string {
  const lines = [
    "# Generated from shared/config/variables.ts by `npm run config:docs`; edit that file, not this one.",
    "",
  ];
  for (const v of allVariables()) {
    lines.push(`# ${v.doc}${v.default === undefined ? " Required." : ""}`);
    lines.push(`${v.env}=${v.default ?? ""}`);
  }
  return `${lines.join("\n")}\n`;
}

export function renderConfigTable(): string {
  const rows = allVariables().map(
    (v) =>
      `| \`${v.env}\` | ${v.default === undefined ? "required" : v.default === "" ? "(empty)" : `\`${v.default}\``} | ${v.doc.replaceAll("|", "\\|")} |`,
  );
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

const randomSecret = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");

/** Creates `.env` if missing; fills any required secret left empty. Returns what it did. */
export function ensureEnvFile(path = ENV_FILE): string[] {
  const done: string[] = [];
  let text = existsSync(path) ? readFileSync(path, "utf8") : readFileSync(ENV_EXAMPLE, "utf8");
  if (!existsSync(path)) done.push(`created ${path} from .env.example`);
  for (const v of allVariables()) {
    if (v.default !== undefined || !v.secret) continue;
    const pattern = new RegExp(`^${v.env}=(.*)$`, "m");
    const current = pattern.exec(text)?.[1]?.trim();
    if (current) continue;
    text = pattern.test(text)
      ? text.replace(pattern, `${v.env}=${randomSecret()}`)
      : `${text}${v.env}=${randomSecret()}\n`;
    done.push(`generated ${v.env}`);
  }
  if (done.length) writeFileSync(path, text, { mode: 0o600 });
  return done;
}

/** The variables in an env file (KEY=VALUE lines; # comments); what Bun would load at start. */
export function readEnvFile(path = ENV_FILE): Record<string, string> {
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match?.[1]) out[match[1]] = (match[2] ?? "").replace(/^(['"])(.*)\1$/, "$2");
  }
  return out;
}
