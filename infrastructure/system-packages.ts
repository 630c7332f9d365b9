/**
 * Every system program the project needs, from Debian's packages, installed in ONE serialised
 * step before anything starts in parallel: two package managers at once fight over apt's locks.
 * A lock held by someone else (unattended-upgrades, another shell) is waited for, bounded, with
 * a message saying so. Not root or no apt-get: one error names every missing package.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

export interface SystemProgram {
  /** What to look for: a name on PATH, or an absolute path. */
  program: string;
  /** The Debian package that provides it. */
  pkg: string;
  /** Why the project needs it (shown in errors). */
  purpose: string;
}

/** The newest PostgreSQL server's bin folder; Debian keeps it off PATH, versioned. */
export function postgresBinDir(): string | null {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const version = readdirSync(base)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(base, version, "bin") : null;
}

export const PROGRAMS = {
  java: { program: "java", pkg: "openjdk-17-jre-headless", purpose: "runs the Apache Kafka broker" },
  keytool: { program: "keytool", pkg: "openjdk-17-jre-headless", purpose: "makes the broker's TLS key" },
  maven: { program: "mvn", pkg: "maven", purpose: "resolves the Kafka jars" },
  redis: { program: "redis-server", pkg: "redis-server", purpose: "the local Redis" },
  postgres: { program: "pg_ctlcluster", pkg: "postgresql", purpose: "the history database in tests" },
  chromium: { program: "/usr/bin/chromium", pkg: "chromium", purpose: "the browser tests" },
  shellcheck: { program: "shellcheck", pkg: "shellcheck", purpose: "lints infrastructure/kafka/deploy.sh" },
  pythonVenv: {
    program: "python3",
    pkg: "python3-venv",
    purpose: "a venv for cfn-lint and checkov, the CloudFormation checkers",
  },
  promtool: { program: "promtool", pkg: "prometheus", purpose: "checks and unit-tests the alert rules" },
  openssl: { program: "openssl", pkg: "openssl", purpose: "test certificates for webhook TLS tests" },
} as const satisfies Record<string, SystemProgram>;
export type ProgramName = keyof typeof PROGRAMS;

/** What `npm start` needs, and what `npm test` needs on top. */
export const FOR_START: ProgramName[] = ["java", "keytool", "maven", "redis"];
export const FOR_TEST: ProgramName[] = [
  ...FOR_START,
  "postgres",
  "chromium",
  "shellcheck",
  "pythonVenv",
  "promtool",
  "openssl",
];

const found = (p: SystemProgram): boolean =>
  p.program.startsWith("/") ? existsSync(p.program) : Bun.which(p.program) !== null;

/** Debian splits venv's pip bootstrap (ensurepip) off python3 into python3-venv. */
function pythonHasVenv(): boolean {
  const python = Bun.which("python3");
  if (python === null) return false;
  return (
    Bun.spawnSync([python, "-c", "import ensurepip, venv"], { stdio: ["ignore", "ignore", "ignore"] }).exitCode === 0
  );
}

/** Programs whose presence is more than a name on PATH. */
const PRESENT: Partial<Record<ProgramName, () => boolean>> = {
  postgres: () => postgresBinDir() !== null || found(PROGRAMS.postgres),
  pythonVenv: pythonHasVenv,
};

export function missingPrograms(names: readonly ProgramName[]): SystemProgram[] {
  return names.filter((n) => !(PRESENT[n] ?? (() => found(PROGRAMS[n])))()).map((n) => PROGRAMS[n] as SystemProgram);
}

const LOCK_BUSY = /Could not get lock|Unable to lock|is another process using it|held by process/i;

export interface AptOptions {
  log: (line: string) => void;
  /** How long to wait for an apt/dpkg lock someone else holds. */
  lockWaitMs: number;
}

async function runAptGet(args: string[]): Promise<{ code: number; stderr: string }> {
  const proc = Bun.spawn(["apt-get", ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { code, stderr };
}

/** One apt-get command, waiting (bounded) while another package manager holds the lock. */
export async function aptGet(args: string[], options: AptOptions): Promise<void> {
  const until = Date.now() + options.lockWaitMs;
  let told = false;
  for (;;) {
    const { code, stderr } = await runAptGet(args);
    if (code === 0) return;
    const busy = LOCK_BUSY.test(stderr);
    if (!busy || Date.now() >= until) {
      const why = busy
        ? `another package manager held apt's lock for over ${Math.round(options.lockWaitMs / 1000)} s`
        : stderr.trim().split("\n").slice(-3).join(" / ");
      throw new Error(`apt-get ${args.join(" ")} failed (exit ${code}): ${why}`);
    }
    if (!told) {
      const holder = /held by process (\d+)/.exec(stderr)?.[1];
      options.log(
        `waiting for apt's lock${holder ? ` (held by process ${holder})` : ""}, up to ${Math.round(options.lockWaitMs / 1000)} s…`,
      );
      told = true;
    }
    await Bun.sleep(1000);
  }
}

/**
 * Installs whatever of `names` is missing, all in one apt-get call. Returns the packages
 * installed (empty when everything was already there).
 */
export async function ensureSystemPackages(
  names: readonly ProgramName[],
  opts: Partial<AptOptions> = {},
): Promise<string[]> {
  const options: AptOptions = { log: opts.log ?? console.log, lockWaitMs: opts.lockWaitMs ?? 300_000 };
  const missing = missingPrograms(names);
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map((p) => p.pkg))];
  const what = missing.map((p) => `${p.program} (${p.purpose})`).join(", ");
  if (process.getuid?.() !== 0 || !Bun.which("apt-get"))
    throw new Error(`missing: ${what}. Install them with: sudo apt-get install ${packages.join(" ")}`);
  options.log(`installing Debian packages ${packages.join(", ")} for ${what} (first run only)…`);
  await aptGet(["update", "-qq"], options);
  await aptGet(["install", "-y", "-qq", "--no-install-recommends", ...packages], options);
  const still = missingPrograms(names);
  if (still.length > 0)
    throw new Error(`still missing after apt-get install: ${still.map((p) => p.program).join(", ")}`);
  return packages;
}
