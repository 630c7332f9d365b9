/**
 * The faults, one at a time. Each returns when it was injected and from when recovery is
 * counted: the injection itself for a process fault, the dependency answering again for the
 * broker and Redis (their downtime is the operator's, not the pipeline's, to shorten).
 */
import type { ChaosStack } from "./chaos-stack.ts";

const CRASH_GOAL_MS = 5000;
const DEPENDENCY_GOAL_MS = 10_000;

export interface FaultTimes {
  /** Unix ms the fault began. */
  injectedAt: number;
  /** Unix ms recovery is counted from. */
  referenceAt: number;
  /** What happened, for the report. */
  detail: string;
}

export interface Fault {
  name: string;
  /** Issue 9's goal for its time to recover: 5 s after a crash, 10 s after a dependency answers again. */
  goalMs: number | null;
  inject(stack: ChaosStack): Promise<FaultTimes>;
}

function pidOf(stack: ChaosStack, child: string): number {
  const pid = stack.supervisor.pids()[child];
  if (!pid) throw new Error(`${child} is not running, so it cannot be the next fault`);
  return pid;
}

/** SIGKILL one supervised process; the supervisor restarts it as `npm start` would. */
export function kill(child: string): Fault {
  return {
    name: `SIGKILL ${child}`,
    goalMs: CRASH_GOAL_MS,
    async inject(stack) {
      const pid = pidOf(stack, child);
      const injectedAt = Date.now();
      process.kill(pid, "SIGKILL");
      const until = Date.now() + 30_000;
      while (Date.now() < until && (stack.supervisor.pids()[child] ?? pid) === pid) await Bun.sleep(20);
      const restarted = stack.supervisor.pids()[child];
      return {
        injectedAt,
        referenceAt: injectedAt,
        detail: restarted ? `restarted in ${((Date.now() - injectedAt) / 1000).toFixed(1)} s` : "not restarted",
      };
    },
  };
}

/**
 * SIGSTOP a worker past the consumer session timeout, then SIGCONT: a hung process, not a dead
 * one. The supervisor sees it stopped (or, without /proc, silent after HANG_AFTER_MS) and kills
 * it, and it is taken over as a crashed one is; the SIGCONT then finds it gone (or, were it never killed, resumes it).
 */
export function pause(child: string, sessionTimeoutMs: number): Fault {
  const pausedMs = sessionTimeoutMs + 5000;
  return {
    name: `SIGSTOP ${child} ${Math.round(pausedMs / 1000)} s`,
    goalMs: CRASH_GOAL_MS,
    async inject(stack) {
      const pid = pidOf(stack, child);
      const injectedAt = Date.now();
      process.kill(pid, "SIGSTOP");
      let replacedAfterMs: number | null = null;
      try {
        while (Date.now() - injectedAt < pausedMs) {
          if (replacedAfterMs === null && stack.supervisor.pids()[child] !== pid)
            replacedAfterMs = Date.now() - injectedAt;
          await Bun.sleep(50);
        }
      } finally {
        if (stack.supervisor.pids()[child] === pid) process.kill(pid, "SIGCONT");
      }
      const detail =
        replacedAfterMs === null
          ? `paused ${(pausedMs / 1000).toFixed(0)} s, resumed`
          : `hung; killed and replaced after ${(replacedAfterMs / 1000).toFixed(1)} s`;
      return { injectedAt, referenceAt: injectedAt, detail };
    },
  };
}

/**
 * A dependency stopped, kept down for `downMs`, started again; recovery is counted from its
 * `start` resolving, which each waits for the dependency to answer.
 */
function outage(
  name: string,
  downMs: number,
  dependency: (stack: ChaosStack) => { stop(): Promise<void>; start(): Promise<void> },
): Fault {
  return {
    name,
    goalMs: DEPENDENCY_GOAL_MS,
    async inject(stack) {
      const { stop, start } = dependency(stack);
      const injectedAt = Date.now();
      await stop();
      const wait = injectedAt + downMs - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      await start();
      const referenceAt = Date.now();
      return {
        injectedAt,
        referenceAt,
        detail: `answering again after ${((referenceAt - injectedAt) / 1000).toFixed(1)} s`,
      };
    },
  };
}

/**
 * A clean Redis restart (its data and ACL users saved, as a configured server keeps them), down
 * for `downMs` — long enough that submits and live connections meet the outage, not only its edges.
 */
export const restartRedis = (downMs: number): Fault =>
  outage(`restart Redis, down ${(downMs / 1000).toFixed(0)} s`, downMs, ({ redis }) => ({
    stop: redis.shutdown,
    start: redis.restart,
  }));

/** The broker stopped cleanly, kept down for `downMs`, started again on the same data. */
export const brokerOutage = (downMs: number): Fault =>
  outage(`broker down ${Math.round(downMs / 1000)} s`, downMs, ({ broker }) => broker);
