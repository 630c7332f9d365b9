/**
 * Every environment variable the pipeline reads, once. Entry points parse the sections they
 * need; `.env.example` and the README table are generated from this file (`npm run config:docs`).
 */
export interface Variable<T> {
  readonly env: string;
  /** The raw default; `undefined` means the variable is required. */
  readonly default: string | undefined;
  readonly doc: string;
  readonly secret?: boolean;
  /** Returns the value, or a message saying what is wrong with `raw`. */
  parse(raw: string): { value: T } | { error: string };
}

type Parse<T> = Variable<T>["parse"];
const def = <T>(env: string, dflt: string | undefined, doc: string, parse: Parse<T>, secret = false): Variable<T> => ({
  env,
  default: dflt,
  doc,
  parse,
  secret,
});

const text: Parse<string> = (raw) => ({ value: raw });
const nonEmpty: Parse<string> = (raw) => (raw.trim() ? { value: raw.trim() } : { error: "must not be empty" });
const int =
  (min: number, max: number): Parse<number> =>
  (raw) => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) return { error: `must be an integer, got "${raw}"` };
    if (n < min || n > max) return { error: `must be between ${min} and ${max}, got ${n}` };
    return { value: n };
  };
const bool: Parse<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (["true", "1", "yes"].includes(v)) return { value: true };
  if (["false", "0", "no", ""].includes(v)) return { value: false };
  return { error: `must be true or false, got "${raw}"` };
};
const choice =
  <const T extends readonly string[]>(values: T): Parse<T[number]> =>
  (raw) =>
    (values as readonly string[]).includes(raw.trim())
      ? { value: raw.trim() as T[number] }
      : { error: `must be one of ${values.join(", ")}, got "${raw}"` };
const urlOf =
  (protocols: string[], optionalValue = false): Parse<string> =>
  (raw) => {
    if (optionalValue && raw.trim() === "") return { value: "" };
    try {
      const u = new URL(raw.trim());
      if (!protocols.includes(u.protocol)) return { error: `must be a ${protocols.join(" or ")} URL, got "${raw}"` };
      return { value: raw.trim().replace(/\/+$/, "") };
    } catch {
      return { error: `must be an absolute URL, got "${raw}"` };
    }
  };
const secretOf =
  (min: number, optionalValue = false): Parse<string> =>
  (raw) => {
    if (optionalValue && raw === "") return { value: "" };
    return raw.length >= min ? { value: raw } : { error: `must be at least ${min} characters long` };
  };
const headerName: Parse<string> = (raw) =>
  raw.trim() === "" || /^[A-Za-z0-9-]+$/.test(raw.trim())
    ? { value: raw.trim().toLowerCase() }
    : { error: `must be an HTTP header name, got "${raw}"` };
const brokers: Parse<string[]> = (raw) => {
  const list = raw
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  if (list.length === 0) return { error: "must list at least one host:port" };
  const bad = list.find((b) => !/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(b));
  return bad ? { error: `must be a comma-separated list of host:port, got "${bad}"` } : { value: list };
};

export const sections = {
  listen: {
    host: def(
      "LISTEN_HOST",
      "127.0.0.1",
      "Interface the HTTP servers bind: loopback locally, 0.0.0.0 in containers.",
      nonEmpty,
    ),
  },
  health: {
    port: def(
      "HEALTH_PORT",
      "0",
      "Port of /readyz for the roles without an HTTP API (status relay, history writer); 0 serves none.",
      int(0, 65535),
    ),
  },
  log: {
    level: def(
      "LOG_LEVEL",
      "info",
      "Lowest log level written: debug, info, warn, error.",
      choice(["debug", "info", "warn", "error"]),
    ),
    format: def(
      "LOG_FORMAT",
      "auto",
      "Log lines as json, or pretty (coloured, for people); auto is pretty on a terminal, json otherwise.",
      choice(["auto", "json", "pretty"]),
    ),
  },
  kafka: {
    brokers: def("KAFKA_BROKERS", "127.0.0.1:9092", "Bootstrap brokers, comma-separated host:port.", brokers),
    clientId: def("KAFKA_CLIENT_ID", "pixel-studio", "Kafka client id prefix for every connection.", nonEmpty),
    ssl: def("KAFKA_SSL", "false", "Connect over TLS (true on MSK).", bool),
    sslCaFile: def("KAFKA_SSL_CA_FILE", "", "PEM file of the CA to trust for TLS; empty trusts the system CAs.", text),
    saslUsername: def("KAFKA_SASL_USERNAME", "", "SCRAM-SHA-512 user; when set, SASL is used.", text),
    saslPassword: def("KAFKA_SASL_PASSWORD", "", "SCRAM-SHA-512 password (required with a username).", text, true),
    topicPrefix: def("KAFKA_TOPIC_PREFIX", "", "Prefix for the topic names (tests use a fresh one per run).", text),
    replicationFactor: def(
      "KAFKA_REPLICATION_FACTOR",
      "1",
      "Replication factor of created topics (3 on MSK).",
      int(1, 16),
    ),
    minInsyncReplicas: def(
      "KAFKA_MIN_INSYNC_REPLICAS",
      "1",
      "min.insync.replicas of created topics (2 on MSK).",
      int(1, 16),
    ),
    consumerGroup: def(
      "KAFKA_CONSUMER_GROUP",
      "pixel-studio-workers",
      "Consumer group of the generation workers.",
      nonEmpty,
    ),
    relayGroup: def("KAFKA_RELAY_GROUP", "pixel-studio-relay", "Consumer group of the status relay.", nonEmpty),
    historyGroup: def(
      "KAFKA_HISTORY_GROUP",
      "pixel-studio-history",
      "Consumer group of the history writer (complete/failed/status → DATABASE_URL).",
      nonEmpty,
    ),
    sessionTimeoutMs: def(
      "KAFKA_SESSION_TIMEOUT_MS",
      "10000",
      "Consumer session timeout of every group (workers, relay, history writer): how long a member that stopped heartbeating keeps its partitions; one whose process dies, or hangs 1 s, under a supervisor is removed at once.",
      int(6000, 300000),
    ),
    connectTimeoutMs: def(
      "KAFKA_CONNECT_TIMEOUT_MS",
      "3000",
      "Connection timeout to a broker, in ms.",
      int(100, 60000),
    ),
  },
  worker: {
    instances: def("PROCESSING_WORKER_INSTANCES", "2", "Worker processes `kafka:consumer` runs locally.", int(1, 64)),
    maxConcurrent: def("MAX_CONCURRENT_GENERATIONS", "4", "Generations in flight per worker instance.", int(1, 256)),
    timeoutMs: def(
      "GENERATION_TIMEOUT_MS",
      "120000",
      "A generation running longer fails with code timeout.",
      int(100, 3600000),
    ),
    maxAttempts: def(
      "GENERATION_MAX_ATTEMPTS",
      "3",
      "Attempts for a generation failing with a transient error.",
      int(1, 20),
    ),
    retryBaseMs: def(
      "GENERATION_RETRY_BASE_MS",
      "500",
      "Base of the exponential retry backoff (with jitter), ms.",
      int(1, 600000),
    ),
    progressIntervalMs: def(
      "GENERATION_PROGRESS_INTERVAL_MS",
      "250",
      "Least time between progress events within one stage (stage changes always go out).",
      int(0, 60000),
    ),
    lookahead: def(
      "GENERATION_LOOKAHEAD",
      "32",
      "Requests a worker instance reads ahead of its free slots, to start them by priority.",
      int(1, 10000),
    ),
    priorityAging: def(
      "GENERATION_PRIORITY_AGING",
      "8",
      "Times a waiting request may be overtaken by more urgent ones before it moves up a priority level.",
      int(1, 100000),
    ),
    shutdownGraceMs: def(
      "SHUTDOWN_GRACE_MS",
      "15000",
      "How long SIGTERM waits for in-flight generations.",
      int(0, 600000),
    ),
    port: def("WS_PORT", "3001", "Worker public port: WebSocket, SSE, images, /healthz.", int(1, 65535)),
    internalPort: def(
      "WORKER_INTERNAL_PORT",
      "3002",
      "Worker internal port: /metrics, /readyz, the synchronous path's route and the history routes the edge calls; never publish it.",
      int(1, 65535),
    ),
    maxSocketsPerUser: def(
      "WS_MAX_SOCKETS_PER_USER",
      "20",
      "Live connections (WebSocket and SSE together) one user may hold across all instances.",
      int(1, 10000),
    ),
    maxSocketsPerAddress: def(
      "WS_MAX_SOCKETS_PER_IP",
      "100",
      "Live connections (WebSocket and SSE together) one client IP address may hold across all instances.",
      int(1, 1000000),
    ),
    trustedClientIpHeader: def(
      "WS_TRUSTED_CLIENT_IP_HEADER",
      "",
      "Header in which the proxy in front of the workers' public port puts the client's IP, overwriting what the client sent (X-Real-IP behind the bundled nginx); empty: never read, the peer address is used.",
      headerName,
    ),
    socketLeaseMs: def(
      "WS_SLOT_LEASE_MS",
      "60000",
      "How long a live connection's slot outlives an instance that died holding it (renewed every third of it).",
      int(1000, 3600000),
    ),
    maxBufferedBytes: def(
      "WS_MAX_BUFFERED_BYTES",
      "1048576",
      "Unsent bytes after which a slow WebSocket reader is closed (1013).",
      int(1024, 1073741824),
    ),
    provider: def(
      "GENERATION_PROVIDER",
      "procedural",
      "Image provider: procedural or openai-compatible.",
      choice(["procedural", "openai-compatible"]),
    ),
    openaiBaseUrl: def(
      "OPENAI_BASE_URL",
      "",
      "Base URL of an OpenAI-compatible images API (…/v1).",
      urlOf(["http:", "https:"], true),
    ),
    openaiApiKey: def("OPENAI_API_KEY", "", "Bearer key for the OpenAI-compatible API.", text, true),
    openaiModel: def("OPENAI_MODEL", "gpt-image-1", "Model name sent to the OpenAI-compatible API.", nonEmpty),
    openaiPartialImages: def(
      "OPENAI_PARTIAL_IMAGES",
      "1",
      "Partial images streamed as previews by GPT image models (0–3; 0 turns streaming off).",
      int(0, 3),
    ),
    imageStore: def("IMAGE_STORE", "local", "Where images go: local (a folder) or s3.", choice(["local", "s3"])),
    imageDir: def(
      "IMAGE_STORE_DIR",
      ".data/images",
      "Folder of the local image store, on a local disk: its writes are synchronous (a page-cache copy each), so a slow network mount would hold the worker's event loop; use s3 there.",
      nonEmpty,
    ),
    s3Bucket: def("S3_BUCKET", "", "Bucket of the S3-compatible image store.", text),
    s3Endpoint: def(
      "S3_ENDPOINT",
      "",
      "Endpoint of the S3-compatible store (empty: AWS).",
      urlOf(["http:", "https:"], true),
    ),
    s3Region: def("S3_REGION", "us-east-1", "Region of the S3-compatible store.", nonEmpty),
    s3AccessKeyId: def("S3_ACCESS_KEY_ID", "", "Access key id of the S3-compatible store.", text, true),
    s3SecretAccessKey: def("S3_SECRET_ACCESS_KEY", "", "Secret key of the S3-compatible store.", text, true),
  },
  keys: {
    redisPrefix: def("REDIS_KEY_PREFIX", "ps:", "Prefix of every Redis key and channel (tests use a fresh one).", text),
  },
  redis: {
    url: def(
      "REDIS_URL",
      "redis://127.0.0.1:6379",
      "Redis the workers, relay and bridge use.",
      urlOf(["redis:", "rediss:"]),
    ),
  },
  kafkaRest: {
    url: def(
      "KAFKA_REST_URL",
      "http://127.0.0.1:8082",
      "Kafka REST endpoint the edge produces through.",
      urlOf(["http:", "https:"]),
    ),
    username: def("KAFKA_REST_USERNAME", "pixel-edge", "Basic-auth user of the Kafka REST endpoint.", nonEmpty),
    password: def(
      "KAFKA_REST_PASSWORD",
      undefined,
      "Basic-auth password of the Kafka REST endpoint.",
      secretOf(16),
      true,
    ),
    port: def("KAFKA_REST_PORT", "8082", "Port of the local Kafka REST gateway.", int(1, 65535)),
  },
  redisRest: {
    url: def(
      "UPSTASH_REDIS_REST_URL",
      "http://127.0.0.1:8079",
      "Upstash-compatible Redis REST URL the edge uses.",
      urlOf(["http:", "https:"]),
    ),
    token: def("UPSTASH_REDIS_REST_TOKEN", undefined, "Bearer token of the Redis REST endpoint.", secretOf(16), true),
    port: def("REDIS_REST_PORT", "8079", "Port of the local Upstash-compatible Redis bridge.", int(1, 65535)),
  },
  redisBridge: {
    username: def(
      "REDIS_BRIDGE_USERNAME",
      "pixel-bridge",
      "Redis ACL user the Redis REST bridge connects as (limited to REDIS_KEY_PREFIX; npm start creates it).",
      nonEmpty,
    ),
    password: def(
      "REDIS_BRIDGE_PASSWORD",
      undefined,
      "Password of the bridge's Redis ACL user (generated into .env on first start).",
      secretOf(16),
      true,
    ),
  },
  webhooks: {
    allowPrivate: def(
      "ALLOW_PRIVATE_WEBHOOKS",
      "false",
      "Accept and deliver to loopback/private webhook addresses on any port, over http too (local development and tests only).",
      bool,
    ),
    allowHttp: def(
      "WEBHOOK_ALLOW_HTTP",
      "false",
      "Accept plain http webhook URLs (port 80) besides https (port 443).",
      bool,
    ),
    timeoutMs: def(
      "WEBHOOK_TIMEOUT_MS",
      "10000",
      "Deadline of one webhook attempt (resolve, connect, answer); a claimed delivery is leased for twice this.",
      int(100, 120000),
    ),
    concurrency: def(
      "WEBHOOK_CONCURRENCY",
      "32",
      "Webhook deliveries one dispatcher (status relay) has in flight at once; a finished one is replaced at once.",
      int(1, 10000),
    ),
    concurrencyPerUser: def(
      "WEBHOOK_CONCURRENCY_PER_USER",
      "4",
      "Of those, how many may go to one user's endpoints, so a slow receiver cannot hold up other users' deliveries.",
      int(1, 10000),
    ),
  },
  backlog: {
    reportIntervalMs: def(
      "BACKLOG_REPORT_INTERVAL_MS",
      "5000",
      "How often the relay publishes the request topic's consumer lag to Redis for the edge's backlog guard.",
      int(100, 600000),
    ),
  },
  auth: {
    jwtSecret: def(
      "AUTH_JWT_SECRET",
      undefined,
      "Master secret (≥ 32 chars); API, session, event and internal tokens each sign with a key derived from it (HKDF).",
      secretOf(32),
      true,
    ),
  },
  edge: {
    port: def(
      "EDGE_PORT",
      "8787",
      "Port of the edge served as a process: on Bun, Deno or local workerd.",
      int(1, 65535),
    ),
    kafkaEnabled: def(
      "ENABLE_KAFKA_IMAGE_GENERATION",
      "true",
      "false serves the old synchronous path (rollback).",
      bool,
    ),
    workerUrl: def(
      "WORKER_URL",
      "http://127.0.0.1:3002",
      "Worker internal URL (WORKER_INTERNAL_PORT) the edge calls for the history, deletions and the synchronous path.",
      urlOf(["http:", "https:"]),
    ),
    rateLimitPerMinute: def("RATE_LIMIT_PER_MINUTE", "60", "Submissions per user per minute.", int(1, 1000000)),
    trustedClientIpHeader: def(
      "TRUSTED_CLIENT_IP_HEADER",
      "",
      "Header in which the proxy in front of the edge puts the client's IP (e.g. CF-Connecting-IP); empty: never read, the peer address is used.",
      headerName,
    ),
    sessionsPerIpPerHour: def(
      "SESSIONS_PER_IP_PER_HOUR",
      "20",
      "New anonymous sessions (studio page visits without a cookie) per client IP per hour.",
      int(1, 1000000),
    ),
    anonymousSubmitsPerIpPerMinute: def(
      "ANONYMOUS_SUBMITS_PER_IP_PER_MINUTE",
      "10",
      "Submissions by cookie (anonymous) users per client IP per minute, on top of the per-user limit.",
      int(1, 1000000),
    ),
    anonymousSubmitsPerMinute: def(
      "ANONYMOUS_SUBMITS_PER_MINUTE",
      "300",
      "Submissions by all cookie (anonymous) users together per minute: a budget no number of addresses can exceed.",
      int(1, 100000000),
    ),
    maxInFlightPerUser: def(
      "MAX_IN_FLIGHT_PER_USER",
      "20",
      "Generations one user may have queued or running at once; more submissions are refused (429 too_many_in_flight).",
      int(1, 1000000),
    ),
    readsPerIpPerMinute: def(
      "READS_PER_IP_PER_MINUTE",
      "600",
      "API calls other than submissions (list, get, cancel, webhook secret) per client IP per minute.",
      int(1, 10000000),
    ),
    backlogMaxRequests: def(
      "BACKLOG_MAX_REQUESTS",
      "10000",
      "Submissions are refused (503) while more requests than this wait for the workers (consumer lag).",
      int(1, 1000000000),
    ),
    syncMaxInFlight: def(
      "SYNC_MAX_IN_FLIGHT",
      "8",
      "Synchronous generations (ENABLE_KAFKA_IMAGE_GENERATION=false) one edge process runs at once; more are refused (503).",
      int(1, 10000),
    ),
  },
  public: {
    wsUrl: def(
      "PUBLIC_WS_URL",
      "ws://localhost:3001",
      "WebSocket base URL clients are told to open.",
      urlOf(["ws:", "wss:"]),
    ),
    imageUrl: def(
      "PUBLIC_IMAGE_URL",
      "http://localhost:3001/images",
      "Base URL clients fetch images from.",
      urlOf(["http:", "https:"]),
    ),
    studioOrigin: def(
      "STUDIO_ORIGIN",
      "http://localhost:8787",
      "Origin of the studio page (CORS/Origin policy).",
      urlOf(["http:", "https:"]),
    ),
  },
  metrics: {
    host: def(
      "METRICS_HOST",
      "127.0.0.1",
      "Interface of every process's internal metrics listener; not loopback needs METRICS_TOKEN.",
      nonEmpty,
    ),
    port: def(
      "METRICS_PORT",
      "9400",
      "Base port of the metrics listeners: each process adds its fixed offset (docs/operations.md); 0 picks free ports.",
      int(0, 65000),
    ),
    token: def(
      "METRICS_TOKEN",
      "",
      "Bearer token a scraper must send to /metrics (metrics listeners and the workers' internal port); empty: metrics listeners serve loopback only, the internal port refuses relayed requests.",
      secretOf(16, true),
      true,
    ),
  },
  ops: {
    port: def("OPS_PORT", "8790", "Port of the operations console (/ops).", int(1, 65535)),
    publicOrigin: def(
      "OPS_PUBLIC_ORIGIN",
      "",
      "Origin operators open the console at (e.g. https://ops.example.com behind a TLS proxy): https makes its cookie Secure, and it is the one origin its forms may post from; empty: both follow the request's own URL (direct local use).",
      urlOf(["http:", "https:"], true),
    ),
  },
  database: {
    url: def(
      "DATABASE_URL",
      "file:.data/pixel-studio.sqlite",
      "SQLite file (file:…) locally, postgres://… in production.",
      urlOf(["file:", "postgres:", "postgresql:"]),
    ),
    retentionDays: def(
      "RETENTION_DAYS",
      "0",
      "Generations (history, logs, images) older than this many days are deleted; 0 keeps them forever.",
      int(0, 36500),
    ),
  },
} as const;

export type Sections = typeof sections;
export type SectionName = keyof Sections;
