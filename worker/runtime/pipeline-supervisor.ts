import type { Config } from "../../shared/config/parse-config.ts";
import type { Logger } from "../../shared/logger.ts";
import { createMemberEvictor } from "../kafka/group-membership.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { kafkaCa } from "./entry.ts";
import { createSupervisor } from "./supervisor.ts";

/**
 * The supervisor `npm start` and `npm run kafka:consumer` run the pipeline under: a process that
 * dies leaves its consumer groups at once, so its partitions move within seconds.
 */
export function createPipelineSupervisor(config: Config<"kafka" | "worker">, logger: Logger) {
  const kafka = createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), clientIdSuffix: "supervisor" });
  const evict = createMemberEvictor(kafka, logger);
  return createSupervisor(logger, {
    stopGraceMs: config.worker.shutdownGraceMs + 10_000,
    evict: (member) => evict(member, config.kafka.sessionTimeoutMs),
  });
}
