import type { Consumer, Kafka } from "./kafka-client.ts";

export interface InOrderMessage {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
}

/**
 * A consumer group member that handles each partition's messages one by one, in order, and
 * moves an offset only after its handler finished: with an idempotent handler that is at least
 * once in and exactly one effect out. A handler that throws fails the batch, which kafkajs
 * retries from the unresolved offset.
 */
export function createInOrderConsumer(options: {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  handle(message: InOrderMessage): Promise<void>;
}) {
  let consumer: Consumer | null = null;
  let stopping: Promise<void> | null = null;
  let joined = false;
  return {
    async start(): Promise<void> {
      consumer = options.kafka.consumer({
        groupId: options.groupId,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 100,
      });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
      });
      await consumer.connect();
      await consumer.subscribe({ topics: options.topics, fromBeginning: true });
      await consumer.run({
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          for (const message of batch.messages) {
            if (!isRunning() || isStale()) break;
            await options.handle({
              topic: batch.topic,
              partition: batch.partition,
              offset: message.offset,
              value: message.value,
            });
            resolveOffset(message.offset);
          }
          await heartbeat();
        },
      });
    },
    get ready(): boolean {
      return joined && stopping === null;
    },
    /** Leaves the group after the current batch; safe to call twice. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        await consumer?.disconnect();
      })();
      return stopping;
    },
  };
}
