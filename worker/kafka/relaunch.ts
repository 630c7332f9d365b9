import type { Logger } from "../../shared/logger.ts";
import { backoffMs } from "../generation/retry-policy.ts";
import { type Consumer, type ConsumerRunConfig, RETRY_CAP_MS } from "./kafka-client.ts";

/** A consumer launched this long before it crashes again counts as having run: backoff starts over. */
const STABLE_MS = 30_000;

/** The pause before the `attempt`-th relaunch in a row (1-based): from 100 ms, jittered, 0.5 s at most. */
export const relaunchDelayMs = (attempt: number, random: () => number = Math.random): number =>
  backoffMs(attempt, 100, random, RETRY_CAP_MS);

/**
 * Starts a consumer again after kafkajs gave up on it: kafkajs restarts a crashed consumer by
 * itself only when the error was retriable, and leaves it stopped for good otherwise — a process
 * that keeps running without consuming. Each call tries until `launch` succeeds or `stopped`
 * aborts, with a backoff bounded at 0.5 s (kafkajs's own retry cap, kafka-client.ts) so a broker
 * that is back is used within half a second. The backoff carries over from one crash to the
 * next: a launch that crashes again at once (a join the broker refuses for good) would otherwise
 * reconnect and rejoin ten times a second, forever; bounded, it tries twice a second.
 */
export function createRelaunch(launch: () => Promise<void>, stopped: AbortSignal, logger: Logger) {
  let attempt = 0;
  let launchedAt = 0;
  return async function relaunch(): Promise<void> {
    if (Date.now() - launchedAt > STABLE_MS) attempt = 0;
    while (!stopped.aborted) {
      await Bun.sleep(relaunchDelayMs(++attempt));
      if (stopped.aborted) return;
      launchedAt = Date.now();
      try {
        await launch();
        logger.info("kafka consumer started again after a crash kafkajs does not recover from", { attempt });
        return;
      } catch (error) {
        logger.warn("kafka consumer could not start again; retrying", { attempt, error });
      }
    }
  };
}

/**
 * Connects, subscribes (from the beginning, where a group has no offsets yet) and runs a consumer.
 * One that fails part way is disconnected before the error goes on, and one whose owner stopped
 * meanwhile is disconnected once started: no launch leaves a connected consumer behind. Without
 * this, a broker that refuses the subscription for good cost one open connection per relaunch.
 */
export async function startConsumer(
  consumer: Consumer,
  topics: string[],
  run: ConsumerRunConfig,
  stopped: AbortSignal,
): Promise<void> {
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run(run);
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  }
  if (stopped.aborted) await consumer.disconnect().catch(() => {});
}
