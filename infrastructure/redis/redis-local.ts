/**
 * Local Redis: reuse whatever already answers on REDIS_URL, else start Debian's
 * redis-server on loopback (installed beforehand by infrastructure/system-packages.ts).
 */
import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { DATA_DIR } from "../paths.ts";
import { runningPid, spawnDaemon, stopProcess } from "../process-tools.ts";

const HOME = join(DATA_DIR, "redis");
const PID_FILE = join(HOME, "redis.pid");

/** Sends PING over raw RESP and waits for PONG (or a NOAUTH error, which also proves Redis). */
export function redisAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let buffer = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => socket.write("*1\r\n$4\r\nPING\r\n"));
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      if (buffer.includes("\r\n")) done(buffer.startsWith("+PONG") || buffer.startsWith("-NOAUTH"));
    });
    socket.once("error", () => done(false));
  });
}

export async function startRedis(redisUrl: string): Promise<{ started: boolean; pid: number | null }> {
  const url = new URL(redisUrl);
  const host = url.hostname;
  const port = Number(url.port || 6379);
  if (await redisAnswers(host, port)) return { started: false, pid: runningPid(PID_FILE) };
  if (!["127.0.0.1", "localhost", "::1"].includes(host)) {
    throw new Error(
      `REDIS_URL points at ${host}:${port}, which does not answer; only a loopback Redis is started locally`,
    );
  }
  const binary = Bun.which("redis-server");
  if (!binary)
    throw new Error(
      "redis-server is not installed: run `sudo apt-get install redis-server`, or point REDIS_URL at a running Redis",
    );
  mkdirSync(HOME, { recursive: true });
  const pid = spawnDaemon(
    [
      binary,
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      HOME,
      "--save",
      "60 1",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
    ],
    { logFile: join(HOME, "redis.log"), pidFile: PID_FILE },
  );
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (await redisAnswers(host, port)) return { started: true, pid };
    await Bun.sleep(100);
  }
  throw new Error(`redis-server did not answer on ${host}:${port}; see ${join(HOME, "redis.log")}`);
}

/** Stops only a Redis this project started; one found already running is left alone. */
export async function stopRedis(): Promise<"stopped" | "not-running"> {
  return stopProcess(PID_FILE, 10_000);
}

export const redisPid = (): number | null => runningPid(PID_FILE);
