import type { Logger } from "../../shared/logger.ts";
import { backoffMs } from "../generation/retry-policy.ts";

/**
 * Starts a consumer again after kafkajs gave up on it: kafkajs restarts a crashed consumer by
 * itself only when the error was retriable, and leaves it stopped for good otherwise — a process
 * that keeps running without consuming. Tries until `launch` succeeds or `stopped` aborts, with
 * a backoff bounded at 2 s so a broker that is back is used within seconds.
 */
export async function relaunch(launch: () => Promise<void>, stopped: AbortSignal, logger: Logger): Promise<void> {
  for (let attempt = 1; !stopped.aborted; attempt++) {
    await Bun.sleep(backoffMs(attempt, 100, Math.random, 2000));
    if (stopped.aborted) return;
    try {
      await launch();
      logger.info("kafka consumer started again after a crash kafkajs does not recover from");
      return;
    } catch (error) {
      logger.warn("kafka consumer could not start again; retrying", { attempt, error });
    }
  }
}
