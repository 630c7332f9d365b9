/**
 * Chooses each message's partition before it is sent, so the batching producer knows where every
 * message goes and can hand each caller its own offset from the partition's base offset: the one
 * it names, else for a round-robin topic (shared/topics.ts) the next partition in turn, else
 * kafkajs's DefaultPartitioner (murmur2 of the key, as the Java client does).
 */
import { PipelineError } from "../../shared/errors.ts";
import { Partitioners, type PartitionMetadata } from "../kafka/kafka-client.ts";
import { kafkaWriteError } from "./kafka-write-error.ts";

export interface Addressable {
  topic: string;
  key?: string;
  value: string;
  partition?: number;
}

export interface PartitionAssigner {
  /** One partition per record, in order; throws a PipelineError before anything is written. */
  assign(records: readonly Addressable[]): Promise<number[]>;
  /** Forget cached partition metadata (after a failed write) so the next call fetches it again. */
  invalidate(topics: Iterable<string>): void;
}

export interface PartitionAssignerOptions {
  fetchPartitions(topic: string): Promise<PartitionMetadata[]>;
  /** Metadata is also refreshed this often, like Kafka's metadata.max.age.ms, to see new partitions. */
  maxAgeMs: number;
  /** Topics whose records, unless they name a partition, take the partitions in turn. */
  roundRobin?: Iterable<string>;
}

export function createPartitionAssigner(options: PartitionAssignerOptions): PartitionAssigner {
  const partitioner = Partitioners.DefaultPartitioner();
  // Each starts at a random partition, so gateways started together do not all begin on partition 0.
  const turns = new Map([...(options.roundRobin ?? [])].map((topic) => [topic, Math.floor(Math.random() * 1024)]));
  /** The partitions a round-robin topic takes in turn: those with a leader, as kafkajs places keyless records (all while none has one). */
  const turnOrder = (partitions: PartitionMetadata[]): number[] => {
    const led = partitions.filter((p) => p.leader >= 0);
    return (led.length ? led : partitions).map((p) => p.partitionId).sort((a, b) => a - b);
  };
  const cache = new Map<string, { fetchedAt: number; partitions: Promise<PartitionMetadata[]> }>();

  const partitionsOf = (topic: string): Promise<PartitionMetadata[]> => {
    const hit = cache.get(topic);
    if (hit && Date.now() - hit.fetchedAt < options.maxAgeMs) return hit.partitions;
    const entry = {
      fetchedAt: Date.now(),
      partitions: options.fetchPartitions(topic).then((partitions) => {
        if (partitions.length === 0)
          throw new PipelineError("kafka_unavailable", `no partitions known for ${topic}`, { retryable: true });
        return partitions;
      }),
    };
    cache.set(topic, entry);
    // Concurrent callers share one fetch; a failed one is forgotten so the next call retries.
    entry.partitions.catch(() => {
      if (cache.get(topic) === entry) cache.delete(topic);
    });
    return entry.partitions;
  };

  return {
    async assign(records) {
      const topics = [...new Set(records.map((r) => r.topic))];
      const metadata = new Map<string, PartitionMetadata[]>();
      try {
        for (const [i, partitions] of (await Promise.all(topics.map(partitionsOf))).entries())
          metadata.set(topics[i] ?? "", partitions);
      } catch (error) {
        throw kafkaWriteError(error, "could not read partition metadata");
      }
      const orders = new Map(topics.filter((t) => turns.has(t)).map((t) => [t, turnOrder(metadata.get(t) ?? [])]));
      return records.map((record, i) => {
        const partitionMetadata = metadata.get(record.topic) ?? [];
        if (record.partition !== undefined && !partitionMetadata.some((p) => p.partitionId === record.partition)) {
          throw new PipelineError(
            "invalid_partition",
            `message ${i}: partition ${record.partition} does not exist (${record.topic} has ${partitionMetadata.length})`,
          );
        }
        if (record.partition !== undefined) return record.partition;
        const order = orders.get(record.topic);
        if (!order) return partitioner({ topic: record.topic, partitionMetadata, message: record });
        const turn = turns.get(record.topic) ?? 0;
        turns.set(record.topic, turn + 1);
        return order[turn % order.length] ?? 0;
      });
    },
    invalidate(topics) {
      for (const topic of topics) cache.delete(topic);
    },
  };
}
