/**
 * The runs: `full` is `npm run chaos` (every fault, the pipeline's own configuration); `short`
 * is the version `npm test` runs (baseline, a worker and the relay killed, a shorter session so
 * the crashed worker's partitions move within the test's time).
 */
import { brokerOutage, kill, pause, restartRedis } from "./faults.ts";
import type { ChaosPlan } from "./run-chaos.ts";

export const FULL: ChaosPlan = {
  workers: 2,
  users: 6,
  perSecond: 4,
  baselineMs: 30_000,
  leadMs: 5000,
  windowMs: 90_000,
  settleMs: 90_000,
  faults: (stack) => [
    kill("worker-1"),
    kill("status-relay"),
    kill("kafka-rest-gateway"),
    kill("history-writer"),
    kill("websocket"),
    restartRedis(2000),
    brokerOutage(12_000),
    pause("worker-2", stack.config.kafka.sessionTimeoutMs),
  ],
};

export const SHORT: ChaosPlan = {
  workers: 2,
  users: 3,
  perSecond: 3,
  baselineMs: 8000,
  leadMs: 3000,
  windowMs: 30_000,
  settleMs: 45_000,
  faults: () => [kill("worker-1"), kill("status-relay")],
  env: { KAFKA_SESSION_TIMEOUT_MS: "6000" },
};
