/**
 * Keeps child processes running: restarts one that dies (with backoff, reset after it has
 * stayed up a while) and, on stop, sends SIGTERM to all and waits for each to drain.
 */
import type { Subprocess } from "bun";
import type { Logger } from "../../shared/logger.ts";

export interface ChildSpec {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
}

export function createSupervisor(
  logger: Logger,
  options: {
    stopGraceMs: number;
    /** A file descriptor the children write to (the chaos suite keeps them off its report); default: ours. */
    output?: number;
  },
) {
  const children = new Map<string, { spec: ChildSpec; proc: Subprocess | null; restarts: number }>();
  let stopping: Promise<void> | null = null;

  function launch(name: string): void {
    const child = children.get(name);
    if (!child || stopping) return;
    const startedAt = Date.now();
    const proc = Bun.spawn(child.spec.cmd, {
      env: { ...process.env, ...child.spec.env },
      stdin: "ignore",
      stdout: options.output ?? "inherit",
      stderr: options.output ?? "inherit",
      onExit: (_p, code, signal) => {
        child.proc = null;
        if (stopping) return;
        if (Date.now() - startedAt > 30_000) child.restarts = 0;
        const delay = Math.min(10_000, 250 * 2 ** child.restarts++);
        logger.warn("child exited; restarting", { child: name, code, signal, restartInMs: delay });
        setTimeout(() => launch(name), delay);
      },
    });
    child.proc = proc;
    logger.info("child started", { child: name, pid: proc.pid });
  }

  return {
    start(spec: ChildSpec): void {
      children.set(spec.name, { spec, proc: null, restarts: 0 });
      launch(spec.name);
    },
    pids(): Record<string, number | null> {
      return Object.fromEntries([...children].map(([name, c]) => [name, c.proc?.pid ?? null]));
    },
    /** SIGTERM to every child, in reverse start order; SIGKILL after the grace period. Safe to call twice. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        for (const [name, child] of [...children].reverse()) {
          const proc = child.proc;
          if (!proc) continue;
          proc.kill("SIGTERM");
          const exited = await Promise.race([
            proc.exited.then(() => true),
            Bun.sleep(options.stopGraceMs).then(() => false),
          ]);
          if (!exited) {
            logger.warn("child did not stop in time; killing", { child: name });
            proc.kill("SIGKILL");
            await proc.exited;
          }
        }
      })();
      return stopping;
    },
  };
}
