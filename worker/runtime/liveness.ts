/**
 * Liveness beats from a supervised process to its supervisor, over IPC. A process that stops
 * beating — paused, deadlocked, its event loop blocked — is killed and replaced by the supervisor
 * (supervisor.ts), so its consumer group partitions move within seconds instead of staying with a
 * member whose heartbeats kafkajs will not miss for a whole session.
 */

export interface LivenessBeat {
  type: "alive";
}

/** How often a process beats; the supervisor's `hangAfterMs` (pipeline-supervisor.ts) allows one to be late. */
export const LIVENESS_BEAT_MS = 500;

export const isLivenessBeat = (message: unknown): message is LivenessBeat =>
  typeof message === "object" && message !== null && (message as { type?: unknown }).type === "alive";

/**
 * Beats for as long as this process runs, when a supervisor listens on IPC (nothing otherwise).
 * Call it once the process has started: a start may block for a while (a SQLite file another
 * process is creating), and the supervisor watches a child only from its first beat.
 */
export function beatToSupervisor(): void {
  if (!process.send) return;
  const message: LivenessBeat = { type: "alive" };
  const beat = () => {
    try {
      process.send?.(message);
    } catch {
      // The channel closed: the supervisor is gone, and nobody is left to hear a beat.
      clearInterval(timer);
    }
  };
  const timer = setInterval(beat, LIVENESS_BEAT_MS);
  // Beats never keep alive a process that has nothing else left to do.
  timer.unref();
  beat();
}
