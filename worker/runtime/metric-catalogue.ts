/**
 * Every Prometheus series any process exports, declared once: name, type, labels, help and who
 * exports it. The registry refuses a series used as another type, and docs/operations.md's
 * metrics table is generated from this list (`npm run config:docs`).
 */
export type ProcessRole =
  | "edge"
  | "kafka-rest-gateway"
  | "redis-rest-bridge"
  | "worker"
  | "websocket"
  | "status-relay"
  | "history-writer"
  | "ops-console";

export interface MetricDef {
  name: string;
  type: "counter" | "gauge" | "histogram";
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
  exportedBy: readonly ProcessRole[];
}

/** Seconds: from a millisecond Lua call to a two-minute generation. */
export const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;
const RECORD_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] as const;

const HTTP: ProcessRole[] = ["edge", "kafka-rest-gateway", "redis-rest-bridge", "ops-console"];
const ALL: ProcessRole[] = [...HTTP, "worker", "websocket", "status-relay", "history-writer"];
const CONSUMERS: ProcessRole[] = ["worker", "status-relay", "history-writer"];
const LIVE: ProcessRole[] = ["worker", "websocket"];

const m = (
  name: string,
  type: MetricDef["type"],
  labels: string[],
  help: string,
  exportedBy: readonly ProcessRole[],
  buckets?: readonly number[],
): MetricDef => ({ name, type, labels, help, exportedBy, ...(buckets ? { buckets } : {}) });

export const METRICS = {
  processStart: m("pixel_process_start_time_seconds", "gauge", [], "Unix time the process started.", ALL),
  processMemory: m("pixel_process_resident_memory_bytes", "gauge", [], "Resident memory of the process.", ALL),

  httpRequests: m(
    "pixel_http_requests_total",
    "counter",
    ["route", "method", "code"],
    "HTTP requests answered, by matched route, method and status code.",
    HTTP,
  ),
  httpSeconds: m(
    "pixel_http_request_seconds",
    "histogram",
    ["route"],
    "Time to answer an HTTP request, by matched route.",
    HTTP,
    SECONDS_BUCKETS,
  ),

  produceBatches: m(
    "pixel_kafka_produce_batches_total",
    "counter",
    ["outcome"],
    "Kafka sendBatch calls by outcome (ok, error); each coalesces every send queued meanwhile.",
    ["kafka-rest-gateway", "worker"],
  ),
  produceBatchRecords: m(
    "pixel_kafka_produce_batch_records",
    "histogram",
    [],
    "Records per Kafka sendBatch: how much group commit coalesces.",
    ["kafka-rest-gateway", "worker"],
    RECORD_BUCKETS,
  ),
  produceSeconds: m(
    "pixel_kafka_produce_seconds",
    "histogram",
    [],
    "Time of one Kafka sendBatch until all in-sync replicas have it.",
    ["kafka-rest-gateway", "worker"],
    SECONDS_BUCKETS,
  ),
  consumerLag: m(
    "pixel_consumer_lag",
    "gauge",
    ["topic", "partition"],
    "Records not yet read on each partition this process owns, as of its last fetch.",
    CONSUMERS,
  ),

  generationOutcomes: m(
    "pixel_generation_outcomes_total",
    "counter",
    ["outcome"],
    "Requests handled, by outcome (completed, failed, canceled, expired, handed-back, duplicate: already ended or superseded by a replay, deleted).",
    ["worker"],
  ),
  generationRetries: m("pixel_generation_retries_total", "counter", [], "Attempts retried after a transient error.", [
    "worker",
  ]),
  generationSeconds: m(
    "pixel_generation_seconds",
    "histogram",
    [],
    "Time from pick-up to outcome.",
    ["worker"],
    SECONDS_BUCKETS,
  ),
  queueSeconds: m(
    "pixel_generation_queue_seconds",
    "histogram",
    [],
    "Queue latency: from the request record's Kafka timestamp to a worker picking it up.",
    ["worker"],
    SECONDS_BUCKETS,
  ),
  inFlight: m("pixel_generations_in_flight", "gauge", [], "Generations running in this instance.", ["worker"]),
  buffered: m(
    "pixel_generations_buffered",
    "gauge",
    [],
    "Requests read ahead and waiting for a slot, to start by priority (at most GENERATION_LOOKAHEAD).",
    ["worker"],
  ),

  deadLetters: m(
    "pixel_dead_letters_total",
    "counter",
    ["consumer", "source", "code"],
    "Messages parked on the dead-letter topic because they fail the same way every time.",
    CONSUMERS,
  ),

  relayEvents: m(
    "pixel_relay_events_total",
    "counter",
    ["topic", "result"],
    "Events the relay read, by topic (requests, status) and result (applied; stale: already applied, usually by the worker live; invalid).",
    ["status-relay"],
  ),
  relayLuaSeconds: m(
    "pixel_relay_lua_seconds",
    "histogram",
    ["script"],
    "Time of one atomic Redis write (apply_request, apply_status Lua).",
    ["status-relay"],
    SECONDS_BUCKETS,
  ),

  historyEvents: m(
    "pixel_history_events_total",
    "counter",
    ["result"],
    "Terminal events the history writer read, by result (inserted, duplicate, invalid).",
    ["history-writer"],
  ),
  historySeconds: m(
    "pixel_history_write_seconds",
    "histogram",
    [],
    "Time of one history database write.",
    ["history-writer"],
    SECONDS_BUCKETS,
  ),

  webhookAttempts: m(
    "pixel_webhook_attempts_total",
    "counter",
    ["outcome"],
    "Webhook delivery attempts, by outcome (delivered, retry, given_up).",
    ["status-relay"],
  ),
  webhookSeconds: m(
    "pixel_webhook_delivery_seconds",
    "histogram",
    [],
    "Time of one webhook POST.",
    ["status-relay"],
    SECONDS_BUCKETS,
  ),
  webhookBacklog: m("pixel_webhook_backlog", "gauge", [], "Deliveries waiting (due now or scheduled for a retry).", [
    "status-relay",
  ]),

  wsSockets: m("pixel_ws_sockets", "gauge", ["transport"], "Live connections open on this instance (ws, sse).", LIVE),
  wsMessages: m("pixel_ws_messages_total", "counter", ["transport"], "Messages sent to live clients.", LIVE),
  wsDrops: m(
    "pixel_ws_drops_total",
    "counter",
    ["reason"],
    "Live connections closed by the server before the end (slow_reader, protocol, feed_error).",
    LIVE,
  ),
  wsRefused: m(
    "pixel_ws_refused_total",
    "counter",
    ["code"],
    "Live connections refused before the upgrade, by HTTP status.",
    LIVE,
  ),

  groupLag: m(
    "pixel_kafka_group_lag",
    "gauge",
    ["group", "role", "topic", "partition"],
    "Committed-offset lag of each consumer group of the pipeline, per partition.",
    ["ops-console"],
  ),
  groupMembers: m(
    "pixel_kafka_group_members",
    "gauge",
    ["group", "role"],
    "Members of each consumer group of the pipeline (0: nobody consumes).",
    ["ops-console"],
  ),
  topicEndOffset: m(
    "pixel_kafka_topic_end_offset",
    "gauge",
    ["topic", "kind"],
    "Sum of a topic's end offsets: records ever written (kind: requests, status, complete, failed, dead-letter).",
    ["ops-console"],
  ),
  workersAlive: m("pixel_ops_workers_alive", "gauge", [], "Worker instances whose heartbeat is fresh.", [
    "ops-console",
  ]),
} as const satisfies Record<string, MetricDef>;

/** The metrics table of docs/operations.md. */
export function renderMetricsTable(): string {
  const rows = Object.values(METRICS).map(
    (d) =>
      `| \`${d.name}\` | ${d.type} | ${d.labels.map((l) => `\`${l}\``).join(", ") || "—"} | ${d.exportedBy.join(", ")} | ${d.help.replaceAll("|", "\\|")} |`,
  );
  return ["| series | type | labels | exported by | meaning |", "|---|---|---|---|---|", ...rows].join("\n");
}
