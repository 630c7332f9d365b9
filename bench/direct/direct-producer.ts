/**
 * The edge's `producer` (EdgeDeps) for option 3(d): the gateway's batching producer in the edge's
 * own process, so a submit reaches Kafka without the REST hop. The record is the one the REST path
 * writes: the same key, value and headers (`restMessage`, as the edge posts them to the gateway).
 */
import { type RestProducer, restMessage } from "../../edge/kafka-rest-producer.ts";
import { ProgrammerError } from "../../shared/errors.ts";
import type { BatchingProducer } from "../../worker/gateway/batching-producer.ts";

export function directProducer(batching: BatchingProducer): RestProducer {
  return {
    async produce(topic, message) {
      const [written] = await batching.send(topic, [restMessage(message)]);
      // One message in, one position out: anything else is a bug, never retried.
      if (!written) throw new ProgrammerError("the batching producer answered no position for the record");
      return written;
    },
    healthy: async () => batching.connected,
  };
}
