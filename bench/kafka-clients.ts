/**
 * kafkajs (through worker/kafka/kafka-client.ts, as the product uses it) and @platformatic/kafka
 * behind one small interface, so bench/kafka-clients.bench.ts measures both the same way.
 */
import { createKafka, Partitioners } from "../worker/kafka/kafka-client.ts";
import { freshKafkaConfig, silentLogger } from "../worker/testing/kafka-test-env.ts";

export interface BenchKafkaClient {
  name: string;
  /** One message, acks=all, idempotent producer; resolves once Kafka has it. */
  send(topic: string, key: string, value: string): Promise<void>;
  /** Joins `groupId` on `topics` from their end, fetching with a `maxWaitMs` long poll; resolves once it consumes. */
  consume(topics: string[], groupId: string, maxWaitMs: number, onMessage: (value: string) => void): Promise<void>;
  close(): Promise<void>;
}

export function kafkajsClient(brokers: string[], clientId: string): BenchKafkaClient {
  const kafka = createKafka({
    config: freshKafkaConfig({ KAFKA_BROKERS: brokers.join(","), KAFKA_CLIENT_ID: clientId }),
    logger: silentLogger,
  });
  // The product's settings: worker/gateway/producer-connection.ts and worker/kafka/in-order-consumer.ts.
  const producer = kafka.producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const connected = producer.connect();
  const consumers: ReturnType<typeof kafka.consumer>[] = [];
  return {
    name: "kafkajs",
    async send(topic, key, value) {
      await connected;
      await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    },
    async consume(topics, groupId, maxWaitMs, onMessage) {
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: maxWaitMs });
      consumers.push(consumer);
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
      });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: false });
      await consumer.run({ eachMessage: async ({ message }) => onMessage(String(message.value)) });
      while (!joined) await Bun.sleep(20);
    },
    async close() {
      await Promise.all(consumers.map((c) => c.disconnect()));
      await producer.disconnect();
    },
  };
}
