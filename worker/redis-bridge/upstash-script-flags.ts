/**
 * Upstash-only Lua shebang flags. @upstash/ratelimit's scripts start with
 * `#!lua flags=allow-key-locking`, which tells Upstash to lock only the script's KEYS; upstream
 * Redis refuses the flag ("Unexpected flag in script shebang"). Redis runs every script
 * atomically anyway, so dropping the flag keeps the meaning.
 *
 * The client calls EVALSHA with the SHA1 of the script it knows, and Redis caches the script we
 * rewrote under another SHA1, so SHAs are translated both ways. The map lives in this process;
 * after a restart EVALSHA answers NOSCRIPT once and the client falls back to EVAL, as it does
 * after SCRIPT FLUSH.
 */
import { createHash } from "node:crypto";
import type { Command } from "./rest-wire.ts";

const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);
const MAX_SCRIPTS = 10_000;

export interface PreparedCommand {
  command: Command;
  /** Turns Redis's reply into the one the client expects; absent when they are the same. */
  reply?: (reply: unknown) => unknown;
}

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** The script without Upstash-only shebang flags, or null when there are none. */
export function withoutUpstashFlags(script: string): string | null {
  const match = /^#!lua([^\n]*)/.exec(script);
  if (!match?.[1]) return null;
  let changed = false;
  const options = match[1]
    .trim()
    .split(/\s+/)
    .map((option) => {
      if (!option.startsWith("flags=")) return option;
      const flags = option.slice("flags=".length).split(",");
      const kept = flags.filter((flag) => !UPSTASH_ONLY_FLAGS.has(flag));
      changed ||= kept.length !== flags.length;
      return kept.length > 0 ? `flags=${kept.join(",")}` : "";
    })
    .filter(Boolean);
  if (!changed) return null;
  return `#!lua${options.map((o) => ` ${o}`).join("")}${script.slice(match[0].length)}`;
}

export function createScriptFlagTranslator() {
  /** The client's SHA1 → the SHA1 Redis knows the rewritten script by. */
  const shas = new Map<string, string>();

  const rewrite = (script: string): { script: string; sha?: string } => {
    const rewritten = withoutUpstashFlags(script);
    if (rewritten === null) return { script };
    const sha = sha1(script);
    if (!shas.has(sha)) {
      if (shas.size >= MAX_SCRIPTS) shas.delete(shas.keys().next().value as string);
      shas.set(sha, sha1(rewritten));
    }
    return { script: rewritten, sha };
  };
  const redisSha = (sha: string) => shas.get(sha.toLowerCase()) ?? sha;

  return {
    prepare(command: Command): PreparedCommand {
      const [name, first, ...rest] = command;
      if (first === undefined) return { command };
      if (name === "EVAL" || name === "EVAL_RO") return { command: [name, rewrite(first).script, ...rest] };
      if (name === "EVALSHA" || name === "EVALSHA_RO") return { command: [name, redisSha(first), ...rest] };
      if (name !== "SCRIPT") return { command };
      const sub = first.toUpperCase();
      if (sub === "EXISTS") return { command: [name, first, ...rest.map(redisSha)] };
      if (sub !== "LOAD" || rest[0] === undefined) return { command };
      const { script, sha } = rewrite(rest[0]);
      return {
        command: [name, first, script],
        reply: sha ? (reply) => (typeof reply === "string" ? sha : reply) : undefined,
      };
    },
  };
}
