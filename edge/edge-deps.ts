import type { Config } from "../shared/config/parse-config.ts";
import type { RequestEvent } from "../shared/events/events.ts";
import type { Logger } from "../shared/logger.ts";
import type { GenerationSnapshot } from "../shared/snapshot.ts";
import type { AbuseLimiters } from "./abuse-limits.ts";
import type { GenerationStore } from "./generation-store.ts";
import type { HistoryClient } from "./history-client.ts";
import type { RestProducer } from "./kafka-rest-producer.ts";
import type { RequestObserver } from "./request-metrics.ts";
import type { WebhookSecrets } from "./webhook-secrets.ts";

export type EdgeConfig = Config<"edge" | "auth" | "keys" | "public" | "webhooks">;

/** Everything the edge app needs, built by each runtime's entry point from its environment. */
export interface EdgeDeps {
  config: EdgeConfig;
  requestsTopic: string;
  store: GenerationStore;
  producer: RestProducer;
  limiters: AbuseLimiters;
  webhookSecrets: WebhookSecrets;
  /** The durable history and deletion, in the container tier. */
  history: HistoryClient;
  /** The pre-Kafka synchronous path (ENABLE_KAFKA_IMAGE_GENERATION=false). */
  generateNow(request: RequestEvent): Promise<GenerationSnapshot>;
  logger: Logger;
  /** Per-request metrics, where the runtime can export them (the edge on Bun). */
  observe?: RequestObserver;
}
