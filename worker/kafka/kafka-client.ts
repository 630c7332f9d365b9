/**
 * The one module that imports kafkajs. Everything else in the container tier takes the
 * `Kafka` this builds (or the types re-exported here), so swapping the client is one file.
 */
import { Kafka, type KafkaConfig, type logCreator, logLevel } from "kafkajs";
// @ts-expect-error kafkajs ships no types for its internals; patched below.
import ConsumerGroup from "kafkajs/src/consumer/consumerGroup.js";
// @ts-expect-error as above.
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
// @ts-expect-error as above; its settling methods are wrapped below.
import SocketRequest from "kafkajs/src/network/requestQueue/socketRequest.js";
import type { SectionConfig } from "../../shared/config/parse-config.ts";
import type { Logger } from "../../shared/logger.ts";

export type {
  Admin,
  Consumer,
  ConsumerRunConfig,
  EachBatchPayload,
  IHeaders,
  ITopicConfig,
  Kafka,
  KafkaMessage,
  Message,
  PartitionMetadata,
  Producer,
  RecordMetadata,
} from "kafkajs";
export { CompressionTypes, ConfigResourceTypes, KafkaJSError, Partitioners } from "kafkajs";

export interface KafkaClientOptions {
  config: SectionConfig<"kafka">;
  logger: Logger;
  /** PEM of the CA to trust, read by the entry point from KAFKA_SSL_CA_FILE. */
  ca?: string;
  /** Retries of each request before it fails; small for CLIs so they never hang. */
  retries?: number;
  /** The longest pause between two tries (RETRY_CAP_MS unless given). */
  retryCapMs?: number;
  requestTimeoutMs?: number;
  clientIdSuffix?: string;
}

// kafkajs 2.2.4's request queue re-arms a timer after every request whether or not anything
// waits, with `throttledUntil - now` (negative, i.e. 1 ms, when not throttled): each broker
// connection of an idle client fires ~1,000 timers a second (kafkajs issues #1556, #1704; the
// fix, PR #1667, is unmerged). This is that fix: a check is scheduled only while requests wait,
// at the end of a throttle or after kafkajs's own 10 ms; a fulfilled request checks by itself.
interface PendingCheck {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
}
RequestQueue.prototype.scheduleCheckPendingRequests = function (this: PendingCheck): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledFor = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttledFor > 0 ? throttledFor : 10,
  );
};

// kafkajs enforces request timeouts with a 100 ms interval per broker connection, running for as
// long as the connection is open whether or not a request waits: every process with a kafkajs
// client wakes ten or more times a second with nothing to do, about 0.15–0.2 % of a core each and
// a third of the idle stack (bench/README.md, "Idle: kafkajs's 100 ms timeout check"). Instead each
// request sent gets one timer for its own timeout, cleared when it is answered or rejected: the
// same timeout (to the millisecond rather than the next tick), and nothing runs while nothing waits.
interface TimedRequest {
  correlationId: number;
  requestTimeout: number;
  timeoutRequest(): void;
  timeoutTimer?: ReturnType<typeof setTimeout>;
}
interface TimedQueue {
  enforceRequestTimeout: boolean;
  inflight: Map<number, TimedRequest>;
}
RequestQueue.prototype.scheduleRequestTimeoutCheck = () => {};
const sendSocketRequest = RequestQueue.prototype.sendSocketRequest;
RequestQueue.prototype.sendSocketRequest = function (this: TimedQueue, request: TimedRequest): void {
  sendSocketRequest.call(this, request);
  // A request that expects no answer has already left `inflight`, settled.
  if (!this.enforceRequestTimeout || this.inflight.get(request.correlationId) !== request) return;
  request.timeoutTimer = setTimeout(() => request.timeoutRequest(), request.requestTimeout);
};
for (const settle of ["completed", "rejected"] as const) {
  const original = SocketRequest.prototype[settle];
  SocketRequest.prototype[settle] = function (this: TimedRequest, ...args: unknown[]): void {
    clearTimeout(this.timeoutTimer);
    original.apply(this, args);
  };
}

// A member learns that its group is rebalancing only from a heartbeat, and kafkajs sends one only
// when the fetch loop asks and `heartbeatInterval` has passed since the last: up to two fetch
// waits after a member left, every other member is still consuming as before, and the partitions
// the leaver owned are nobody's (a joining replacement waits for them too). After
// `heartbeatSoon(groupId)`, each of this process's members of that group sends its next
// heartbeat whatever the interval: the next time its fetch loop asks (within one fetch wait), it
// meets the rebalance and rejoins. Counted, not timed: a member is caught up once a heartbeat it
// *started* after the hurry has been answered (one already in flight may predate the removal,
// and kafkajs shares it with later callers), and a clock step cannot make every call hurried.
//
// That next heartbeat comes only once the member's fetch returns (kafkajs fetches, then
// heartbeats), and an empty fetch returns after its maxWait: 1 s for the pipeline's consumers.
// The survivors of a crash went on with their own partitions that long after the dead member was
// removed (`npm run chaos`, SIGKILL worker: its work resumed 0.84 s after the eviction). So a
// *brisk* member fetches with a short wait, and heartbeats at least as often:
// - at work, having read records within the last 2 s: 250 ms. An empty fetch costs little beside
//   the work, and a crash there strands requests;
// - just joined, within 2 s of its last join: 50 ms. Members come in waves (siblings restarting
//   after a broker outage, a crashed member's replacement), and each join rebalances the group
//   again, waiting for every member to hear of it. After a broker outage the first worker back
//   joined alone and heard of the second one's join, 4 ms behind it, 0.52 s later (`npm run
//   chaos`) while the stranded requests waited; a bare pair of members with 1 s waits took
//   1.2 s, with 250 ms 0.3 s, with 50 ms 0.11–0.13 s. After each rebalance, each member sends
//   up to ~40 more fetches (per broker it fetches from) and ~40 more heartbeats.
// Any other member keeps its wait and interval, as an empty fetch costs an idle process ~1.4 ms
// of CPU (a flat 250 ms took each idle worker of `npm start` from 0.4 % to 0.8 % of a core; a
// 10 s window, the stack 2 s after traffic from 5.3 % to 7.9 %). A member asking for more than
// one byte per fetch (the history writer) uses its wait as a batching window and keeps it.
// Monotonic time: a clock stepped back must not hold a member brisk.
export const ACTIVE_FETCH_WAIT_MS = 250;
const JOINED_FETCH_WAIT_MS = 50;
export const ACTIVE_FOR_MS = 2000;
interface Member {
  groupId: string;
  maxWaitTime: number;
  minBytes: number;
  configuredWait?: number;
  lastRecordsAt?: number;
  joinedAt?: number;
}
const recent = (at: number | undefined) => at !== undefined && performance.now() - at < ACTIVE_FOR_MS;
/** The longest a brisk member waits per fetch and between heartbeats; undefined when it is not brisk. */
const briskWait = (member: Member): number | undefined =>
  recent(member.joinedAt) ? JOINED_FETCH_WAIT_MS : recent(member.lastRecordsAt) ? ACTIVE_FETCH_WAIT_MS : undefined;

const hurries = new Map<string, number>();
const caughtUp = new WeakMap<object, { hurries: number; inFlight: boolean }>();
const heartbeat = ConsumerGroup.prototype.heartbeat;
ConsumerGroup.prototype.heartbeat = function (this: Member, { interval }: { interval: number }) {
  const member = caughtUp.get(this) ?? { hurries: 0, inFlight: false };
  caughtUp.set(this, member);
  const wanted = hurries.get(this.groupId) ?? 0;
  const hurried = wanted > member.hurries;
  const fresh = !member.inFlight;
  member.inFlight = true;
  const settle = () => {
    member.inFlight = false;
    // Answered, either way (a rebalance error is the news it was sent for).
    if (hurried && fresh) member.hurries = Math.max(member.hurries, wanted);
  };
  const wait = briskWait(this);
  const due = hurried ? 0 : wait === undefined ? interval : Math.min(interval, wait);
  return heartbeat.call(this, { interval: due }).then(
    (value: unknown) => {
      settle();
      return value;
    },
    (error: unknown) => {
      settle();
      throw error;
    },
  );
};

const joinAndSync = ConsumerGroup.prototype.joinAndSync;
ConsumerGroup.prototype.joinAndSync = async function (this: Member) {
  const joined = await joinAndSync.call(this);
  this.joinedAt = performance.now();
  return joined;
};

const fetchBatches = ConsumerGroup.prototype.fetch;
ConsumerGroup.prototype.fetch = async function (this: Member, nodeId: string) {
  this.configuredWait ??= this.maxWaitTime;
  const wait = this.minBytes <= 1 ? briskWait(this) : undefined;
  this.maxWaitTime = wait === undefined ? this.configuredWait : Math.min(this.configuredWait, wait);
  const batches: { isEmpty(): boolean }[] = await fetchBatches.call(this, nodeId);
  if (batches.some((batch) => !batch.isEmpty())) this.lastRecordsAt = performance.now();
  return batches;
};

/**
 * This process's members of `groupId` heartbeat once without waiting for their interval. For
 * whoever removed a member from the group (supervisor.ts): the others take over its partitions
 * within a fetch wait rather than a heartbeat interval and a fetch wait.
 */
export function heartbeatSoon(groupId: string): void {
  hurries.set(groupId, (hurries.get(groupId) ?? 0) + 1);
}

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

const HANDLED_RESPONSE = /rebalanc|not the leader|no leader for this topic-partition/i;
const CAPPED_RETRIES_WARNING = "Limiting retries for the idempotent producer may invalidate EoS guarantees";

function routeLogs(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...fields } = log;
      // kafkajs's own INFO lines (joins, commits) are noise at our info level, and so is its
      // warning on capped idempotent retries: the batching producer caps them on purpose and
      // starts a fresh producer (new producer id) after a failed batch.
      // A rebalance answers in-flight heartbeats with an error the consumer handles by rejoining;
      // a partition whose leader is moving (or just created) answers "not the leader" and the
      // request is retried against fresh metadata. kafkajs logs both responses as errors anyway.
      const handled = HANDLED_RESPONSE.test(String((fields as { error?: unknown }).error ?? ""));
      const quiet = LEVELS[level] === "info" || message === CAPPED_RETRIES_WARNING || handled;
      const ours = quiet ? "debug" : (LEVELS[level] ?? "debug");
      logger[ours](message, { component: "kafkajs", namespace, ...fields });
    };
}

/**
 * The longest wait between two tries against Kafka, for kafkajs's retries and ours alike
 * (producer reconnects, consumer relaunches, member evictions): a broker that is back is used
 * within this long, whatever the outage lasted.
 */
export const RETRY_CAP_MS = 500;

export function createKafka(options: KafkaClientOptions): Kafka {
  const { config } = options;
  const ssl = config.ssl ? (options.ca ? { ca: [options.ca] } : true) : false;
  const kafkaConfig: KafkaConfig = {
    clientId: options.clientIdSuffix ? `${config.clientId}-${options.clientIdSuffix}` : config.clientId,
    brokers: config.brokers,
    ssl,
    connectionTimeout: config.connectTimeoutMs,
    // A broker that stopped answering (frozen, cut off) is given up on within seconds and the
    // request retried on a fresh connection, rather than held for kafkajs's 30 s.
    requestTimeout: options.requestTimeoutMs ?? 10000,
    // Waits between retries are capped at 0.5 s, and eight of them span about as long as five
    // capped at 2 s did (~3 s). The cap is what a client that lost its broker waits, at most,
    // between connection attempts, and what a crashed consumer waits before it restarts:
    // with 2 s, consumers rejoined up to 2 s after the broker answered again, and the
    // generations accepted meanwhile waited that long (`npm run chaos`, "broker down").
    retry: {
      retries: options.retries ?? 8,
      initialRetryTime: Math.min(100, options.retryCapMs ?? RETRY_CAP_MS),
      maxRetryTime: options.retryCapMs ?? RETRY_CAP_MS,
    },
    logLevel: logLevel.INFO,
    logCreator: routeLogs(options.logger),
  };
  if (config.saslUsername) {
    kafkaConfig.sasl = { mechanism: "scram-sha-512", username: config.saslUsername, password: config.saslPassword };
  }
  return new Kafka(kafkaConfig);
}

/**
 * What a broker answers about a group whose coordinator it is still loading, or is moving; the
 * last, by name, is what kafkajs makes of FindCoordinator answering "not available" after its
 * own retries.
 */
const COORDINATOR_NOT_READY = new Set([
  "GROUP_LOAD_IN_PROGRESS",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR_FOR_GROUP",
  "KafkaJSGroupCoordinatorNotFound",
]);
/** Asked again every 50 ms for the first second of a load, then every RETRY_CAP_MS. */
const coordinatorPollMs = (waitedMs: number) => (waitedMs < 1000 ? 50 : RETRY_CAP_MS);

export interface LeaveGroupOptions {
  /** How long a coordinator that is not ready yet is waited for; 0: one attempt. */
  waitForCoordinatorMs?: number;
  /** Told each time the coordinator was not ready and is asked again. */
  onNotReady?(reason: string): void;
}

/**
 * Removes `memberId` from `groupId` at once (a LeaveGroup request sent on the member's behalf),
 * so its partitions move now instead of when its session times out. kafkajs has no static
 * membership and no public call for this, but it builds clusters (connections that can talk to a
 * group coordinator) through a private factory on the client; that factory is reached here, in
 * the one module that knows kafkajs. Resolves "left" when the broker removed the member,
 * "unknown" when it was no longer in the group (it left, or its session already expired).
 *
 * A broker that has just started answers before it has loaded its groups: for a few hundred ms
 * (`npm run chaos`, "broker down": 0.3–0.6 s) it says the group is loading or not its own. For up
 * to `waitForCoordinatorMs` the same cluster (its connections kept) asks again, every 50 ms for
 * the first second and every 0.5 s after, so the member goes as soon as its group is loaded:
 * the rebalance that brings the pipeline back waits for it. A caller retrying with backoff and a
 * new connection came 0.3–0.45 s later. The wait is checked before each pause: the last attempt
 * may end up to a request timeout past it, when the member's session has expired anyway.
 */
export async function leaveGroupFor(
  kafka: Kafka,
  groupId: string,
  memberId: string,
  options: LeaveGroupOptions = {},
): Promise<"left" | "unknown"> {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  const createCluster = factory && (kafka as unknown as Record<symbol, unknown>)[factory];
  if (typeof createCluster !== "function")
    throw new Error("this kafkajs version has no cluster factory to leave a group with");
  const cluster = createCluster({}) as {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    findGroupCoordinator(args: { groupId: string }): Promise<{
      leaveGroup(args: { groupId: string; memberId: string }): Promise<unknown>;
    }>;
  };
  try {
    // Inside the try: a connect that fails half way (seed broker reached, metadata not) is closed too.
    await cluster.connect();
    const began = performance.now();
    const until = began + (options.waitForCoordinatorMs ?? 0);
    for (;;) {
      try {
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        await coordinator.leaveGroup({ groupId, memberId });
        return "left";
      } catch (error) {
        const { type, name } = error as { type?: unknown; name?: unknown };
        if (type === "UNKNOWN_MEMBER_ID") return "unknown";
        const reason = String(type ?? name);
        const pause = coordinatorPollMs(performance.now() - began);
        if (!COORDINATOR_NOT_READY.has(reason) || performance.now() + pause > until) throw error;
        options.onNotReady?.(reason);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}
