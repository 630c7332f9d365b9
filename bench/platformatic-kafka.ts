/**
 * The one module that imports @platformatic/kafka, for bench/kafka-clients.bench.ts only: the
 * product's Kafka client is kafkajs (worker/kafka/kafka-client.ts). Same settings as ours:
 * idempotent producer with acks=all, a consumer group member with the fetch wait it is given.
 */
import {
  Consumer,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import type { BenchKafkaClient } from "./kafka-clients.ts";

export function platformaticClient(brokers: string[], clientId: string): BenchKafkaClient {
  const producer = new Producer({
    clientId: `${clientId}-producer`,
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
  });
  const consumers: Consumer<string, string, string, string>[] = [];
  return {
    name: "@platformatic/kafka",
    async send(topic, key, value) {
      await producer.send({ messages: [{ topic, key, value }] });
    },
    async consume(topics, groupId, maxWaitMs, onMessage) {
      const consumer = new Consumer({
        clientId: `${clientId}-consumer`,
        groupId,
        bootstrapBrokers: brokers,
        deserializers: stringDeserializers,
        maxWaitTime: maxWaitMs,
      });
      consumers.push(consumer);
      const stream = await consumer.consume({ topics, mode: MessagesStreamModes.LATEST, autocommit: true });
      stream.on("data", (message) => onMessage(message.value));
    },
    async close() {
      await Promise.all(consumers.map((c) => c.close(true)));
      await producer.close();
    },
  };
}
