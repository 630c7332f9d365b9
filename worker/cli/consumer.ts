/** `npm run kafka:consumer`: PROCESSING_WORKER_INSTANCES worker processes, each restarted if it dies. */
import { join } from "node:path";
import { configOrExit, loggerFor } from "../runtime/entry.ts";
import { createPipelineSupervisor } from "../runtime/pipeline-supervisor.ts";

const config = configOrExit(process.env, ["worker", "kafka"]);
const logger = loggerFor(config, "worker-supervisor");
const supervisor = createPipelineSupervisor(config, logger);
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
