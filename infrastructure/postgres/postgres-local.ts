/**
 * A throwaway PostgreSQL cluster for tests, from Debian's server binaries (installed beforehand
 * by infrastructure/system-packages.ts), listening only on 127.0.0.1:5433 — not 5432, so a system
 * instance is never touched — with trust auth. Every step is idempotent; a Postgres already
 * answering on the port is reused.
 *
 * Where its data lives: PostgreSQL refuses to run as root, so as root the cluster runs as
 * Debian's `postgres` user, which may not be able to enter the checkout at all (a clone under
 * /root or `mktemp -d`). As root the cluster therefore lives in that user's own home, in a folder
 * named for this checkout; otherwise under .data/postgres.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DATA_DIR, ROOT } from "../paths.ts";
import { postgresBinDir } from "../system-packages.ts";

/** Debian's system user that owns clusters; initdb and postgres refuse to run as root. */
const OS_USER = "postgres";
const isRoot = (): boolean => process.getuid?.() === 0;

function osUserHome(): string {
  const entry = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((line) => line.startsWith(`${OS_USER}:`));
  const home = entry?.split(":")[5];
  if (!home) throw new Error(`no "${OS_USER}" system user: is Debian's postgresql package installed?`);
  return home;
}

function clusterHome(): string {
  if (!isRoot()) return join(DATA_DIR, "postgres");
  const checkout = createHash("sha256").update(ROOT).digest("hex").slice(0, 12);
  return join(osUserHome(), "pixel-studio", checkout);
}
const HOME = clusterHome();
const CLUSTER = join(HOME, "data");
const LOG_FILE = join(HOME, "postgres.log");
const HOST = "127.0.0.1";
export const POSTGRES_PORT = 5433;
const SUPERUSER = "postgres";
export const TEST_DATABASE = "pixel_studio_test";
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export const postgresUrl = (database: string): string => `postgres://${SUPERUSER}@${HOST}:${POSTGRES_PORT}/${database}`;

const asClusterOwner = (cmd: string[]): string[] => (isRoot() ? ["runuser", "-u", OS_USER, "--", ...cmd] : cmd);

async function run(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed with exit ${code}: ${(err || out).trim()}`);
  return out;
}

function findServer(): string {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL server binaries are missing: run `sudo apt-get install postgresql`");
  return bin;
}

function psql(bin: string, database: string, query: string): Promise<string> {
  // -X: a developer's ~/.psqlrc must not change what we read back.
  return run([
    join(bin, "psql"),
    "-X",
    "-q",
    "-tA",
    "-h",
    HOST,
    "-p",
    String(POSTGRES_PORT),
    "-U",
    SUPERUSER,
    "-d",
    database,
    "-c",
    query,
  ]);
}

async function answers(bin: string): Promise<boolean> {
  const proc = Bun.spawn([join(bin, "pg_isready"), "-q", "-h", HOST, "-p", String(POSTGRES_PORT)], {
    stdout: "ignore",
    stderr: "ignore",
  });
  return (await proc.exited) === 0;
}

async function initCluster(bin: string, log: (line: string) => void): Promise<void> {
  // A half-written cluster (initdb interrupted) has no PG_VERSION yet: start it over.
  if (existsSync(join(CLUSTER, "PG_VERSION"))) return;
  rmSync(CLUSTER, { recursive: true, force: true });
  // Made by the cluster's owner, so initdb can write in it whoever runs this.
  await run(asClusterOwner(["mkdir", "-p", HOME]));
  log(`initialising a PostgreSQL cluster in ${CLUSTER}`);
  await run(
    asClusterOwner([
      join(bin, "initdb"),
      "-D",
      CLUSTER,
      "-U",
      SUPERUSER,
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-instructions",
    ]),
  );
}

async function startCluster(bin: string): Promise<void> {
  // No Unix socket: the cluster is reachable only over TCP on loopback, so trust auth is loopback-only.
  const options = `-c listen_addresses=${HOST} -c port=${POSTGRES_PORT} -c unix_socket_directories=''`;
  try {
    await run(
      asClusterOwner([join(bin, "pg_ctl"), "-D", CLUSTER, "-l", LOG_FILE, "-o", options, "-w", "-t", "60", "start"]),
    );
  } catch (error) {
    const tail = existsSync(LOG_FILE) ? readFileSync(LOG_FILE, "utf8").trim().split("\n").slice(-5).join("\n") : "";
    throw new Error(`${(error as Error).message}\n${tail}`);
  }
}

/** Creates `database` unless it exists; a concurrent creator winning the race is fine. */
async function ensureDatabase(bin: string, database: string): Promise<void> {
  const exists = await psql(bin, "postgres", `SELECT 1 FROM pg_database WHERE datname = '${database}'`);
  if (exists.trim() === "1") return;
  await psql(bin, "postgres", `CREATE DATABASE "${database}"`).catch((error: Error) => {
    if (!error.message.includes("already exists")) throw error;
  });
}

function checkName(database: string): void {
  if (!DATABASE_NAME.test(database)) throw new Error(`invalid database name "${database}": use [a-z0-9_], ≤ 63 chars`);
}

/**
 * Makes sure the local cluster runs and `database` exists in it; returns its `postgres://` URL.
 * Safe to call from many tests: each call after the first only checks.
 */
export async function startPostgres(
  options: { database?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const database = options.database ?? TEST_DATABASE;
  const log = options.log ?? console.log;
  checkName(database);
  const bin = findServer();
  if (!(await answers(bin))) {
    await initCluster(bin, log);
    await startCluster(bin);
    log(`postgres: started on ${HOST}:${POSTGRES_PORT} (data in ${CLUSTER})`);
  }
  await ensureDatabase(bin, database);
  return postgresUrl(database);
}

/** Drops a database a test created, closing whatever connections it still has. */
export async function dropDatabase(database: string): Promise<void> {
  checkName(database);
  const bin = postgresBinDir();
  if (!bin) return;
  await psql(bin, "postgres", `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
}

/** Stops only the cluster under .data/postgres; a Postgres this project did not start is left alone. */
export async function stopPostgres(): Promise<"stopped" | "not-running"> {
  const bin = postgresBinDir();
  if (!bin || !existsSync(join(CLUSTER, "postmaster.pid"))) return "not-running";
  const status = Bun.spawn(asClusterOwner([join(bin, "pg_ctl"), "-D", CLUSTER, "status"]), {
    stdout: "ignore",
    stderr: "ignore",
  });
  if ((await status.exited) !== 0) return "not-running";
  await run(asClusterOwner([join(bin, "pg_ctl"), "-D", CLUSTER, "-m", "fast", "-w", "stop"]));
  return "stopped";
}
