/**
 * The edge's `producer` (EdgeDeps) for option 3(d): the gateway's batching producer in the edge's
 * own process, so a submit reaches Kafka without the REST hop. The record is the one the REST path
 * writes: the same key, value and headers (`restMessage`, as the edge posts them to the gateway).
 */
import { type RestProducer, restMessage } from "../../edge/kafka-rest-producer.ts";
import type { BatchingProducer, ProducedRecord } from "../../worker/gateway/batching-producer.ts";

export function directProducer(batching: BatchingProducer): RestProducer {
  return {
    async produce(topic, message) {
      const positions = await batching.send(topic, [restMessage(message)]);
      // `send` answers one position per message, in order, or rejects.
      return positions[0] as ProducedRecord;
    },
    healthy: async () => batching.connected,
  };
}
