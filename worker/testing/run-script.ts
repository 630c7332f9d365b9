/**
 * Runs one of our scripts as its own process, as an operator would, from a bare working
 * directory so no developer `.env` leaks in; returns its output and exit code.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../infrastructure/paths.ts";

export async function runScript(script: string, args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, join(ROOT, script), ...args], {
    cwd: mkdtempSync(join(tmpdir(), "script-")),
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}
