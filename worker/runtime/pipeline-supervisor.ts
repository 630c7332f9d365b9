import type { Config } from "../../shared/config/parse-config.ts";
import type { Logger } from "../../shared/logger.ts";
import { createMemberEvictor } from "../kafka/group-membership.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { kafkaCa } from "./entry.ts";
import { createSupervisor, type SupervisorOptions } from "./supervisor.ts";

/**
 * How long a pipeline process may stay silent before it counts as hung: two beats missed. Far
 * above any pause of a working event loop — under a burst of 48 renders of 2048² through `npm
 * start` (2 workers × 4 on 2 cores), no process's beats came more than 530 ms apart, 30 ms
 * past the 500 ms interval — and well under the consumer session (10 s by default) a hung member
 * would otherwise keep its partitions for.
 */
export const HANG_AFTER_MS = 1500;

/**
 * The supervisor `npm start`, `npm run kafka:consumer` and the fault suite run the pipeline under:
 * a process that dies or hangs leaves its consumer groups at once, so its partitions move within
 * seconds.
 */
export function createPipelineSupervisor(
  config: Config<"kafka" | "worker">,
  logger: Logger,
  options: Pick<SupervisorOptions, "output" | "isolatedIn"> & { stopGraceMs?: number } = {},
) {
  const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), clientIdSuffix: "supervisor" });
  const evict = createMemberEvictor(kafka, logger);
  return createSupervisor(logger, {
    stopGraceMs: config.worker.shutdownGraceMs + 10_000,
    ...options,
    hangAfterMs: HANG_AFTER_MS,
    evict: (member) => evict(member, config.kafka.sessionTimeoutMs),
  });
}
