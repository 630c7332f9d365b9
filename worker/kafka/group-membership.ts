/**
 * Consumer group members that do not outlive their process. kafkajs has no static membership
 * (KIP-345): a member that dies keeps its partitions until its session times out, however soon
 * its replacement starts, and so does the member a crashed kafkajs consumer leaves behind when it
 * restarts under a new member id. Whoever sees a member die — the supervisor that restarts its
 * process, or the process whose consumer crashed — removes it from its group at once.
 */
import type { Logger } from "../../shared/logger.ts";
import { type Consumer, heartbeatSoon, type Kafka, leaveGroupFor } from "./kafka-client.ts";
import { relaunchDelayMs } from "./relaunch.ts";

export interface Membership {
  groupId: string;
  memberId: string;
}

/** The message a child process sends its supervisor over IPC each time one of its consumers joins. */
export interface MembershipReport extends Membership {
  type: "kafka-membership";
}

export const isMembershipReport = (message: unknown): message is MembershipReport =>
  typeof message === "object" &&
  message !== null &&
  (message as { type?: unknown }).type === "kafka-membership" &&
  typeof (message as { groupId?: unknown }).groupId === "string" &&
  typeof (message as { memberId?: unknown }).memberId === "string";

/**
 * The message a supervisor sends its other children once it removed a member of `groupId`: their
 * members of that group heartbeat at once, learn of the rebalance and take over its partitions.
 */
export interface MemberRemoved {
  type: "kafka-member-removed";
  groupId: string;
}

export const isMemberRemoved = (message: unknown): message is MemberRemoved =>
  typeof message === "object" &&
  message !== null &&
  (message as { type?: unknown }).type === "kafka-member-removed" &&
  typeof (message as { groupId?: unknown }).groupId === "string";

let listening = false;
/**
 * Acts on the supervisor's MemberRemoved messages, for every group this process has members of.
 * Once per process; the IPC channel is unreferenced, so listening never keeps a process alive.
 */
function listenForRemovals(): void {
  if (listening || !process.send) return;
  listening = true;
  process.on("message", (message) => {
    if (isMemberRemoved(message)) heartbeatSoon(message.groupId);
  });
  process.channel?.unref();
}

/**
 * Removes members from their groups, retrying until done or `withinMs` passed: by then the
 * member's session has expired and the broker removed it. A broker that is away is tried again
 * with backoff and a new connection; one still loading the group is asked again on the same
 * connection, every 50 ms at first (leaveGroupFor).
 */
export function createMemberEvictor(kafka: Kafka, logger: Logger) {
  return async function evict(member: Membership, withinMs: number): Promise<void> {
    const until = performance.now() + withinMs;
    const onNotReady = (reason: string) =>
      logger.debug("the group's coordinator is not ready; asking again", { ...member, reason });
    for (let attempt = 1; ; attempt++) {
      try {
        const waitForCoordinatorMs = Math.max(0, until - performance.now());
        const outcome = await leaveGroupFor(kafka, member.groupId, member.memberId, {
          waitForCoordinatorMs,
          onNotReady,
        });
        logger.info("removed a dead consumer group member", { ...member, outcome });
        return;
      } catch (error) {
        if (performance.now() >= until) {
          logger.warn("could not remove a dead consumer group member; its session will expire", { ...member, error });
          return;
        }
        await Bun.sleep(Math.min(relaunchDelayMs(attempt), Math.max(0, until - performance.now())));
      }
    }
  };
}

/** How long a process keeps trying to remove the member its crashed consumer left behind. */
const CRASH_EVICTION_WINDOW_MS = 5 * 60_000;

/**
 * Watches one kafkajs consumer: tells the supervisor (if this process has one listening on IPC)
 * every member id it joins with, heartbeats at once when the supervisor removed another member of
 * its group, and when kafkajs reports a crash — after which it rejoins under a
 * new member id — removes the old one, so the rejoin does not wait for the old session to expire.
 */
export function watchMembership(consumer: Consumer, options: { kafka: Kafka; logger: Logger }): void {
  listenForRemovals();
  let current: Membership | null = null;
  const evict = createMemberEvictor(options.kafka, options.logger);
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    current = { groupId: payload.groupId, memberId: payload.memberId };
    const report: MembershipReport = { type: "kafka-membership", ...current };
    try {
      process.send?.(report);
    } catch (error) {
      // The supervisor is gone (the channel closed): nobody is left to act on the report.
      options.logger.debug("could not report the group membership to the supervisor", { error });
    }
  });
  consumer.on(consumer.events.CRASH, () => {
    const stale = current;
    current = null;
    // A crash is mostly the broker away: keep trying until it answers. A broker that restarted
    // reloads the group with its members, and their sessions run from its start, not the crash.
    if (stale) void evict(stale, CRASH_EVICTION_WINDOW_MS);
  });
}
