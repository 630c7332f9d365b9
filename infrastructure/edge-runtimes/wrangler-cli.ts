/**
 * Runs the pinned wrangler CLI under the project's Bun (wrangler wants a newer Node than the
 * machines have), offline: no banner (its update check asks the npm registry), no telemetry,
 * no error reports, no `.env` read behind our back.
 */
import { join } from "node:path";
import { ROOT } from "../paths.ts";

export const WRANGLER_CONFIG = join(ROOT, "wrangler.toml");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");

export const WRANGLER_ENV = {
  WRANGLER_HIDE_BANNER: "true",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "false",
};

export async function runWrangler(args: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([process.execPath, WRANGLER, ...args, "--config", WRANGLER_CONFIG], {
    cwd: ROOT,
    env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: stdout + stderr };
}

/** The Worker exactly as `wrangler deploy --env <env>` would upload it; `""` is the top level. */
export async function buildWorker(outdir: string, env: string): Promise<{ code: number; output: string }> {
  return runWrangler(["deploy", "--dry-run", "--outdir", outdir, `--env=${env}`]);
}

/** The environments `wrangler.toml` declares (`[env.<name>]`). */
export async function wranglerEnvironments(): Promise<string[]> {
  const config = Bun.TOML.parse(await Bun.file(WRANGLER_CONFIG).text()) as { env?: Record<string, unknown> };
  return Object.keys(config.env ?? {});
}
