import type { Config } from "../../shared/config/parse-config.ts";
import type { Logger } from "../../shared/logger.ts";
import { createMemberEvictor } from "../kafka/group-membership.ts";
import { createKafka } from "../kafka/kafka-client.ts";
import { kafkaCa } from "./entry.ts";
import { createSupervisor, type SupervisorOptions } from "./supervisor.ts";

/**
 * How long a pipeline process may stay silent before it counts as hung. The longest a working
 * event loop stays blocked: about 100 ms under bursts of 48 renders of 2048² through `npm start`
 * (2 workers × 4 on 2 cores, beats came at most 197 ms apart at a 100 ms interval); in the history
 * writer, plus a SQLite busy wait (history-db.ts, 250 ms at most); in a worker, plus an image put
 * written synchronously (local-image-store.ts, up to 1 MiB: ~100 ms to a disk the kernel paces at
 * 10 MB/s). Beats come every 500 ms, so a working process is silent 850 ms at worst, and a hung
 * one is found 0.5–1.2 s after it stopped, well under the consumer session (10 s by default) it
 * would otherwise keep its partitions for. Beating more
 * often would find it sooner but costs every idle process a wake-up per beat (about 0.4 ms of
 * CPU each in `npm start`: 200 ms beats took the idle stack from 2.3 % to 3.4 % of a core). A
 * stopped one (SIGSTOP) needs no silence: the supervisor reads its state in /proc at
 * each check and kills it the second time it finds it stopped, 0.2–0.4 s after the stop.
 */
export const HANG_AFTER_MS = 1000;

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
