/**
 * cfn-lint and checkov, the CloudFormation checkers, in a project-owned Python venv under
 * .cache/ at the versions of requirements.txt. Installed once (about 45 s), reinstalled when
 * requirements.txt or the Python changes; concurrent callers wait for one installer. Needs
 * Python 3 with venv (Debian's python3-venv, installed by system-packages.ts beforehand).
 *
 * `bun infrastructure/aws/python-tools.ts` installs them by hand (deploy.sh uses the same venv).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CACHE_DIR, ROOT } from "../paths.ts";
import { isAlive } from "../process-tools.ts";

const REQUIREMENTS = join(ROOT, "infrastructure/aws/requirements.txt");
export const TOOLS_VENV = join(CACHE_DIR, "aws-tools");
const STAMP = join(TOOLS_VENV, ".installed");
const LOCK = join(CACHE_DIR, "aws-tools.lock");

export type PythonTool = "cfn-lint" | "checkov";
export const toolPath = (tool: PythonTool): string => join(TOOLS_VENV, "bin", tool);

async function run(cmd: string[], what: string): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0)
    throw new Error(`${what} failed (exit ${code}): ${(err || out).trim().split("\n").slice(-4).join(" / ")}`);
  return out.trim();
}

/** What the installed venv must match: the requirements and the interpreter that built it. */
async function wantedStamp(python: string): Promise<string> {
  const version = await run([python, "--version"], "python3 --version");
  return createHash("sha256").update(readFileSync(REQUIREMENTS)).update(version).digest("hex");
}

/** An exclusive lock held as a folder (mkdir is atomic); a holder that died is taken over. */
async function withLock<T>(log: (line: string) => void, waitMs: number, body: () => Promise<T>): Promise<T> {
  const pidFile = join(LOCK, "pid");
  const until = Date.now() + waitMs;
  let told = false;
  mkdirSync(CACHE_DIR, { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(pidFile, String(process.pid));
      break;
    } catch {
      const holder = Number(existsSync(pidFile) ? readFileSync(pidFile, "utf8") : "0");
      if (holder > 0 && !isAlive(holder)) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() >= until)
        throw new Error(`another process (${holder || "unknown"}) is still installing cfn-lint/checkov`);
      if (!told) log(`waiting for process ${holder || "?"} to finish installing cfn-lint/checkov…`);
      told = true;
      await Bun.sleep(500);
    }
  }
  try {
    return await body();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Makes sure the pinned cfn-lint and checkov are installed; returns the venv's folder. */
export async function ensurePythonTools(
  opts: { log?: (line: string) => void; lockWaitMs?: number } = {},
): Promise<string> {
  const log = opts.log ?? console.log;
  const python = Bun.which("python3");
  if (!python) throw new Error("python3 not found: install Debian's python3-venv (npm test does so as root)");
  const wanted = await wantedStamp(python);
  const current = () => (existsSync(STAMP) ? readFileSync(STAMP, "utf8") : "");
  if (current() === wanted) return TOOLS_VENV;
  return withLock(log, opts.lockWaitMs ?? 600_000, async () => {
    if (current() === wanted) return TOOLS_VENV; // installed by whoever held the lock
    log("installing cfn-lint and checkov into .cache/aws-tools (first run only, about a minute)…");
    // A half-built venv (interrupted install, older requirements) is rebuilt from nothing.
    rmSync(TOOLS_VENV, { recursive: true, force: true });
    await run([python, "-m", "venv", TOOLS_VENV], "creating the Python venv (is python3-venv installed?)");
    await run(
      [
        join(TOOLS_VENV, "bin", "python"),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
      ].concat(["-r", REQUIREMENTS]),
      "pip install -r infrastructure/aws/requirements.txt",
    );
    writeFileSync(STAMP, wanted);
    return TOOLS_VENV;
  });
}

if (import.meta.main) {
  try {
    console.log(`cfn-lint and checkov ready in ${await ensurePythonTools()}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
