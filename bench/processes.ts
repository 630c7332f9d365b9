/**
 * The WebSocket benchmark's child processes and what /proc says about them. Children run with
 * an explicit environment from a temporary directory, so no `.env` of the checkout leaks in.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { TEST_REDIS_URL } from "../worker/redis/redis-test-env.ts";

/** The production entry point of a live server alone (`npm run kafka:websocket`). */
const LIVE_SERVER = new URL("../worker/ws/main.ts", import.meta.url).pathname;
/** /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second for user space. */
const USER_HZ = 100;

export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Resident memory of a process in KiB (VmRSS of /proc/<pid>/status). */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match?.[1]) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}

/** CPU seconds (user + system, every thread) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which may itself contain spaces: utime and stime are 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/**
 * The process listening on a loopback TCP port (the shared broker, Redis), found through the
 * socket's inode in /proc/net/tcp{,6} and the process holding it; null when none is visible.
 */
export function listenerPid(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set(
    ["/proc/net/tcp", "/proc/net/tcp6"]
      .flatMap((table) => readFileSync(table, "utf8").split("\n"))
      .map((line) => line.trim().split(/\s+/))
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the tenth field.
      .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === "0A")
      .map((f) => `socket:[${f[9]}]`),
  );
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`))
        if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
    } catch {
      // the process ended, or its descriptors are not ours to read
    }
  }
  return null;
}

/** Busy and total CPU ticks of the whole machine (first line of /proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const [, ...values] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
  const ticks = values.map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** The soft limit on open files of a process, from /proc/<pid>/limits. */
export function openFilesLimit(pid: number): number {
  const match = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return Number(match?.[1] ?? Number.NaN);
}

/** Lines a child writes to stdout, as they arrive. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      yield buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
    }
  }
}

/** Spawns a `bun` child in a temporary directory with only PATH and `env`, reading `input` if given. */
export function spawnBun(args: string[], env: Record<string, string>, input?: Blob) {
  return Bun.spawn([process.execPath, ...args], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? "", ...env },
    stdin: input ?? "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
}

/** One live (WebSocket) server instance in its own process, on a free loopback port. */
export async function startLiveServer(options: { prefix: string; secret: string }) {
  const port = freePort();
  const child = spawnBun([LIVE_SERVER], {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: options.prefix,
    AUTH_JWT_SECRET: options.secret,
    WS_PORT: String(port),
    LISTEN_HOST: "127.0.0.1",
    LOG_LEVEL: "error",
    // Every bench socket comes from 127.0.0.1, thousands of them: the per-address and per-user
    // caps (100 and 20 by default) are not under test, and would refuse all but the first 100.
    WS_MAX_SOCKETS_PER_IP: "1000000",
    WS_MAX_SOCKETS_PER_USER: "10000",
  });
  const health = `http://127.0.0.1:${port}/healthz`;
  const sockets = async () => ((await (await fetch(health)).json()) as { sockets: number }).sockets;
  for (let attempt = 0; (await sockets().catch(() => null)) === null; attempt++) {
    if (attempt > 100 || child.exitCode !== null) throw new Error("the live server did not start");
    await Bun.sleep(50);
  }
  return {
    pid: child.pid,
    url: `ws://127.0.0.1:${port}`,
    /** Open WebSockets as the server counts them. */
    sockets,
    /** SIGTERM, as in production: every socket is closed with 1001, then the process exits. */
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}
export type LiveServer = Awaited<ReturnType<typeof startLiveServer>>;
