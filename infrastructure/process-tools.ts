import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";

export function readPid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid in `pidFile` if that process still runs; a stale file is removed. */
export function runningPid(pidFile: string): number | null {
  const pid = readPid(pidFile);
  if (pid !== null && isAlive(pid)) return pid;
  if (existsSync(pidFile)) rmSync(pidFile);
  return null;
}

/** Starts a long-lived daemon in its own process group so it outlives this command. */
export function spawnDaemon(
  cmd: string[],
  options: { logFile: string; pidFile: string; cwd?: string; env?: Record<string, string> },
): number {
  const out = openSync(options.logFile, "a");
  const child = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: "ignore",
    stdout: out,
    stderr: out,
    detached: true,
  });
  child.unref();
  writeFileSync(options.pidFile, String(child.pid));
  return child.pid;
}

export async function stopProcess(pidFile: string, graceMs: number): Promise<"stopped" | "not-running"> {
  const pid = runningPid(pidFile);
  if (pid === null) return "not-running";
  process.kill(pid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < until) await Bun.sleep(100);
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  while (isAlive(pid)) await Bun.sleep(50);
  rmSync(pidFile, { force: true });
  return "stopped";
}

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Process memory (resident set) in MiB, from /proc; null where /proc is absent. */
export function residentMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : null;
  } catch {
    return null;
  }
}
