/**
 * What the kernel says of a process: whether a signal stopped it (SIGSTOP, SIGTSTP: state "T"),
 * read from /proc. A tracing stop ("t": strace, a debugger) is not counted: a traced process
 * that still works passes through it at every system call. Where there is no /proc (not Linux),
 * nothing is known: false.
 */
import { readFileSync } from "node:fs";

export function isStopped(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // "pid (comm) S …": comm may hold spaces and parentheses, so the state follows the last ")".
  return stat.charAt(stat.lastIndexOf(")") + 2) === "T";
}
