/**
 * Keeps child processes running: restarts one that dies (at once the first time, then with
 * backoff, reset after it has stayed up a while) and, on stop, sends SIGTERM to all and waits for
 * each to drain.
 *
 * Children report over IPC each Kafka consumer group member they join as
 * (kafka/group-membership.ts). When a child dies, `evict` removes those members from their groups
 * at once, and the other children are told to heartbeat now: its partitions move to the other
 * members, and its replacement joins, without waiting for the dead member's session to time out
 * or for the others' next heartbeat.
 *
 * With `hangAfterMs`, a child that beats (runtime/liveness.ts) and then falls silent that long —
 * paused, deadlocked, its event loop blocked — is killed, and so treated as one that died: a hung
 * member would otherwise keep its partitions, still heartbeating or not, for a whole session.
 * One the kernel shows stopped by a signal (SIGSTOP) at two checks in a row is killed then.
 */
import type { Subprocess } from "bun";
import type { Logger } from "../../shared/logger.ts";
import { isMembershipReport, type MemberRemoved, type Membership } from "../kafka/group-membership.ts";
import { isLivenessBeat } from "./liveness.ts";
import { isStopped as isStoppedProcess } from "./process-state.ts";

export interface ChildSpec {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
}

export interface SupervisorOptions {
  stopGraceMs: number;
  /** Removes a dead child's consumer group member (see createMemberEvictor). */
  evict?(member: Membership): Promise<void>;
  /** A file descriptor the children write to (the chaos suite keeps them off its report); default: ours. */
  output?: number;
  /**
   * A folder the children run in with exactly their spec's environment, none of ours: no `.env`
   * of the checkout reaches them (Bun loads one from the working directory). Default: they run
   * here and inherit ours, as `npm start` wants.
   */
  isolatedIn?: string;
  /**
   * Kill a child silent this long after its first liveness beat; default: never. A beating child
   * the kernel shows stopped at two checks in a row is killed then, without waiting that long.
   */
  hangAfterMs?: number;
  /** Whether the kernel shows a process stopped; default: process-state.ts (Linux /proc). */
  isStopped?(pid: number): boolean;
}

interface Child {
  spec: ChildSpec;
  proc: Subprocess | null;
  restarts: number;
  /** When its last liveness beat came; null before the first (a child that never beats is not watched). */
  lastBeat: number | null;
  /** Checks in a row at which the kernel showed it stopped. */
  stoppedChecks: number;
}

/**
 * How long to wait before the `restarts`-th restart in a row (0-based): none for the first, as a
 * one-off crash should cost its users only the start-up time (an open WebSocket reconnects to
 * the same port), then 250 ms doubling to 10 s, so a child that cannot start does not spin.
 */
export const restartDelayMs = (restarts: number): number =>
  restarts === 0 ? 0 : Math.min(10_000, 250 * 2 ** (restarts - 1));

export function createSupervisor(logger: Logger, options: SupervisorOptions) {
  const children = new Map<string, Child>();
  let stopping: Promise<void> | null = null;

  function launch(name: string): void {
    const child = children.get(name);
    if (!child || stopping) return;
    const startedAt = Date.now();
    // The group members this process reported, by group id (a rejoin replaces its entry).
    const members = new Map<string, Membership>();
    const proc = Bun.spawn(child.spec.cmd, {
      env: options.isolatedIn ? child.spec.env : { ...process.env, ...child.spec.env },
      cwd: options.isolatedIn,
      stdin: "ignore",
      stdout: options.output ?? "inherit",
      stderr: options.output ?? "inherit",
      ipc: (message) => {
        if (isLivenessBeat(message)) child.lastBeat = Date.now();
        else if (isMembershipReport(message))
          members.set(message.groupId, { groupId: message.groupId, memberId: message.memberId });
      },
      onExit: (_p, code, signal) => {
        child.proc = null;
        if (stopping) return;
        for (const member of members.values()) void evictAndTell(member);
        if (Date.now() - startedAt > 30_000) child.restarts = 0;
        const delay = restartDelayMs(child.restarts++);
        logger.warn("child exited; restarting", { child: name, code, signal, restartInMs: delay });
        setTimeout(() => launch(name), delay);
      },
    });
    child.proc = proc;
    child.lastBeat = null;
    child.stoppedChecks = 0;
    logger.info("child started", { child: name, pid: proc.pid });
  }

  /**
   * Removes a dead child's member, then tells every running child so, since the group's other
   * members would otherwise go on consuming their own partitions until their next heartbeat
   * interval, leaving the dead member's partitions to nobody meanwhile (kafka/group-membership.ts).
   */
  async function evictAndTell(member: Membership): Promise<void> {
    if (!options.evict) return;
    await options.evict(member);
    const removed: MemberRemoved = { type: "kafka-member-removed", groupId: member.groupId };
    for (const { proc } of children.values()) {
      try {
        proc?.send(removed);
      } catch {
        // That child is exiting (its channel closed); it has no member left to hurry.
      }
    }
  }

  const watch = options.hangAfterMs ? watchForHangs(options.hangAfterMs) : null;
  function watchForHangs(hangAfterMs: number) {
    const isStopped = options.isStopped ?? isStoppedProcess;
    // Often enough to find a stopped child within half a second, whatever the silence allowed.
    const everyMs = Math.max(50, Math.min(200, Math.floor(hangAfterMs / 6)));
    let checkedAt = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      // This check itself came late: our own process stalled (or the clock stepped), so beats
      // may be waiting unread. Judge silence from now on rather than kill for our own pause.
      const late = now - checkedAt > everyMs + hangAfterMs / 3;
      checkedAt = now;
      if (late) {
        for (const child of children.values()) {
          if (child.lastBeat !== null) child.lastBeat = now;
          child.stoppedChecks = 0;
        }
        return;
      }
      for (const [name, child] of children) {
        if (!child.proc || child.lastBeat === null) continue;
        // Stopped by a signal (SIGSTOP): it cannot beat again until someone resumes it, so it is
        // hung now, not after the silence a busy but running process is allowed. Seen twice in
        // a row, so a stop that ends at once is not taken for one.
        child.stoppedChecks = isStopped(child.proc.pid) ? child.stoppedChecks + 1 : 0;
        const silentMs = now - child.lastBeat;
        if (silentMs <= hangAfterMs && child.stoppedChecks < 2) continue;
        logger.warn("child stopped answering; killing it", {
          child: name,
          silentMs,
          stopped: child.stoppedChecks >= 2,
        });
        child.lastBeat = null;
        child.stoppedChecks = 0;
        child.proc.kill("SIGKILL");
      }
    }, everyMs);
    timer.unref();
    return timer;
  }

  return {
    start(spec: ChildSpec): void {
      children.set(spec.name, { spec, proc: null, restarts: 0, lastBeat: null, stoppedChecks: 0 });
      launch(spec.name);
    },
    pids(): Record<string, number | null> {
      return Object.fromEntries([...children].map(([name, c]) => [name, c.proc?.pid ?? null]));
    },
    /** SIGTERM to every child, in reverse start order; SIGKILL after the grace period. Safe to call twice. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (watch) clearInterval(watch);
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
