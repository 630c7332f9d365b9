/** `npm run kafka:consumer`: PROCESSING_WORKER_INSTANCES worker processes, each restarted if it dies. */
import { join } from "node:path";
import { createMemberEvictor } from "../kafka/group-membership.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { configOrExit, kafkaCa, loggerFor } from "../runtime/entry.ts";
import { createSupervisor } from "../runtime/supervisor.ts";

const config = configOrExit(process.env, ["worker", "kafka"]);
const logger = loggerFor(config, "worker-supervisor");
// A worker that dies leaves the consumer group at once, so its partitions move within seconds.
const evict = createMemberEvictor(
  createKafka({ config: config.kafka, logger, ca: kafkaCa(config.kafka), clientIdSuffix: "supervisor" }),
  logger,
);
const supervisor = createSupervisor(logger, {
  stopGraceMs: config.worker.shutdownGraceMs + 10_000,
  evict: (member) => evict(member, config.kafka.sessionTimeoutMs),
});
for (let i = 1; i <= config.worker.instances; i++) {
  supervisor.start({
    name: `worker-${i}`,
    cmd: [process.execPath, join(import.meta.dir, "../main.ts")],
    env: { WORKER_INSTANCE: String(i) },
  });
}
const stop = () => void supervisor.stop().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
