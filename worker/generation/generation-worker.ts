import type { TopicKey, TopicSpec } from "../../shared/topics.ts";
import type { BatchingProducer } from "../gateway/batching-producer.ts";
import type { DeadLetters } from "../kafka/dead-letters.ts";
import type { Kafka } from "../kafka/kafka-client.ts";
import { createGenerationConsumer } from "./generation-consumer.ts";
import { kafkaEventSink } from "./kafka-event-sink.ts";
import { type GenerationDeps, type GenerationOutcome, runGeneration } from "./run-generation.ts";

export interface GenerationWorkerOptions
  extends Pick<
    GenerationDeps,
    | "provider"
    | "store"
    | "state"
    | "applyLive"
    | "workerId"
    | "policy"
    | "imageUrl"
    | "logger"
    | "onRetry"
    | "discardImages"
  > {
  kafka: Kafka;
  producer: BatchingProducer;
  deadLetters: Pick<DeadLetters, "park">;
  topics: Record<TopicKey, TopicSpec>;
  groupId: string;
  maxConcurrent: number;
  lookahead?: number;
  priorityAging?: number;
  sessionTimeoutMs?: number;
  onOutcome?(outcome: GenerationOutcome, elapsedMs: number): void;
  onLag?(partition: number, lag: number): void;
  onPickup?(queuedMs: number): void;
  /** A generation started running here, and stopped (with or without an outcome). */
  onRunning?(id: string, running: boolean): void;
}

/**
 * One worker instance's generation side: the request consumer wired to `runGeneration`, with
 * events going out through the shared producer. The process entry point and the test harness
 * both build workers here, so the tests exercise the wiring that runs in production.
 */
export function createGenerationWorker(options: GenerationWorkerOptions) {
  const { topics } = options;
  const sink = kafkaEventSink(options.producer, options.kafka);
  return createGenerationConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topic: topics.requests.name,
    maxConcurrent: options.maxConcurrent,
    lookahead: options.lookahead,
    priorityAging: options.priorityAging,
    sessionTimeoutMs: options.sessionTimeoutMs,
    logger: options.logger,
    onLag: options.onLag,
    deadLetters: options.deadLetters,
    onPickup: options.onPickup,
    run: async (request, traceparent, shutdown, releaseSlot) => {
      const began = performance.now();
      options.onRunning?.(request.id, true);
      const outcome = await runGeneration(request, traceparent, {
        provider: options.provider,
        store: options.store,
        state: options.state,
        sink,
        applyLive: options.applyLive,
        topics: { status: topics.status.name, complete: topics.complete.name, failed: topics.failed.name },
        workerId: options.workerId,
        policy: options.policy,
        imageUrl: options.imageUrl,
        discardImages: options.discardImages,
        shutdown,
        releaseSlot,
        onRetry: options.onRetry,
        logger: options.logger,
      }).finally(() => options.onRunning?.(request.id, false));
      options.onOutcome?.(outcome, performance.now() - began);
      return outcome;
    },
  });
}
