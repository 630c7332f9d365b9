/**
 * The twin edge's "produce": `queue.add` where ours POSTs to the Kafka REST gateway. It plugs
 * into the edge as its `producer` (EdgeDeps), so auth, validation, rate limit, idempotency and
 * the early snapshot run exactly the code ours runs.
 */

import type { RestProducer } from "../../edge/kafka-rest-producer.ts";
import { PipelineError } from "../../shared/errors.ts";
import type { RequestEvent } from "../../shared/events/events.ts";
import type { TwinJobQueue } from "../bullmq-side.ts";

export function bullmqProducer(queue: TwinJobQueue): RestProducer {
  return {
    async produce(topic, message) {
      // The job id is the generation id, as the Kafka key is ours: a second add of it is a no-op.
      const request = JSON.parse(message.value) as RequestEvent;
      try {
        const job = await queue.add("generation", request, { jobId: request.id });
        // BullMQ has no partitions or offsets; the job's timestamp orders it in the queue.
        return { topic, partition: 0, offset: job.timestamp, timestamp: job.timestamp };
      } catch (error) {
        throw new PipelineError("unavailable", `BullMQ add failed: ${(error as Error).message}`, {
          retryable: true,
          cause: error,
        });
      }
    },
    async healthy() {
      try {
        // BullMQ's client interface has no PING: any answered read proves Redis is reachable.
        await (await queue.client).get(`${queue.qualifiedName}:health`);
        return true;
      } catch {
        return false;
      }
    },
  };
}
