/**
 * Removing a member on its behalf, with the real broker: a live member leaves its group at once,
 * and a stale one (already gone, or never there) is answered "unknown" and not retried. The
 * members left are hurried: they rejoin without waiting for their heartbeat interval.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLogger } from "../../shared/logger.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { createFreshTopics } from "../gateway/gateway-fixtures.ts";
import {
  deleteTestTopics,
  freshKafkaConfig,
  groupMembers,
  joinedMember,
  testKafka,
} from "../testing/kafka-test-env.ts";
import { createMemberEvictor } from "./group-membership.ts";
import { ACTIVE_FETCH_WAIT_MS, ACTIVE_FOR_MS, type Consumer, heartbeatSoon, leaveGroupFor } from "./kafka-client.ts";

const config = freshKafkaConfig({ KAFKA_SESSION_TIMEOUT_MS: "60000" });
const kafka = testKafka(config);
const groupId = `${config.consumerGroup}-membership`;
let consumer: Consumer;
let memberId = "";

beforeAll(async () => {
  await createFreshTopics(kafka, config);
  // A session far longer than the test: only a LeaveGroup can remove this member in time.
  ({ consumer, memberId } = await joinedMember(kafka, groupId, topicSpecs(config).requests.name));
}, 60_000);
afterAll(async () => {
  await consumer.disconnect();
  await deleteTestTopics(config);
});

const listed = () => groupMembers(kafka, groupId);

test("a member is removed from its group at once; removing it again answers unknown, once", async () => {
  expect(await listed()).toEqual([memberId]);
  expect(await leaveGroupFor(kafka, groupId, memberId)).toBe("left");
  expect(await listed()).not.toContain(memberId);

  expect(await leaveGroupFor(kafka, groupId, memberId)).toBe("unknown");
  expect(await leaveGroupFor(kafka, `${groupId}-never-joined`, "no-such-member")).toBe("unknown");

  // The evictor takes "unknown" as done: one answer, no retries until its window ends.
  const lines: string[] = [];
  const evict = createMemberEvictor(kafka, createLogger({ sink: (_level, line) => lines.push(line) }));
  await evict({ groupId, memberId }, 60_000);
  expect(lines.map((line) => JSON.parse(line))).toMatchObject([
    { level: "info", msg: "removed a dead consumer group member", outcome: "unknown" },
  ]);
}, 60_000);

/** Waits for `done`, failing the test (so its clean-up runs) after `ms`. */
async function within(ms: number, what: string, done: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) throw new Error(`${what} did not happen within ${ms} ms`);
    await Bun.sleep(20);
  }
}

/**
 * Members of a fresh group whose joins are recorded: `member(name, heartbeatInterval)` makes one
 * (not yet connected), `start` connects and runs it, `read` waits until members have read
 * records, `split` waits until two members share the
 * topic's partitions, and `takesAll` waits (at most `withinMs`) for the group to rebalance, then
 * expects `name` to hold every partition.
 */
function hurriedGroup(suffix: string, maxWaitTimeInMs: number) {
  const group = `${groupId}-${suffix}`;
  const topic = topicSpecs(config).requests.name;
  const all = topicSpecs(config).requests.partitions;
  const joins: { member: string; partitions: number[] }[] = [];
  const lastOf = (name: string) => joins.filter((j) => j.member === name).at(-1);
  const holdsSome = (name: string) => (lastOf(name)?.partitions.length ?? all) < all;
  const names = new Map<Consumer, string>();
  const prepared = new Set<Consumer>();
  /** When each member last read a record. */
  const readAt = new Map<string, number>();
  return {
    group,
    topic,
    all,
    member(name: string, heartbeatInterval: number): Consumer {
      const c = kafka.consumer({ groupId: group, sessionTimeout: 60_000, heartbeatInterval, maxWaitTimeInMs });
      c.on(c.events.GROUP_JOIN, ({ payload }) =>
        joins.push({ member: name, partitions: payload.memberAssignment[topic] ?? [] }),
      );
      names.set(c, name);
      return c;
    },
    /** Connects and subscribes, so that `start` only runs (and joins). */
    async ready(...members: Consumer[]): Promise<void> {
      for (const c of members) {
        if (prepared.has(c)) continue;
        prepared.add(c);
        await c.connect();
        await c.subscribe({ topics: [topic] });
      }
    },
    async start(...members: Consumer[]): Promise<void> {
      await this.ready(...members);
      for (const c of members) {
        await c.run({
          eachMessage: async () => {
            readAt.set(names.get(c) ?? "", Date.now());
          },
        });
      }
    },
    /** Until each of `members` has read a record since now. */
    async read(...members: string[]): Promise<void> {
      const since = Date.now();
      await within(20_000, "members reading records", () => members.every((m) => (readAt.get(m) ?? 0) >= since));
    },
    /** Partitions `name` was given at its last join (0 before it joined). */
    holds: (name: string) => lastOf(name)?.partitions.length ?? 0,
    async split(a: string, b: string): Promise<void> {
      await within(30_000, "the group splitting", () => holdsSome(a) && holdsSome(b));
    },
    /** Call right before the rebalance is caused. */
    watch(name: string) {
      const joinsBefore = joins.length;
      return async (withinMs: number) => {
        const until = Date.now() + withinMs;
        while (joins.length === joinsBefore && Date.now() < until) await Bun.sleep(50);
        expect(lastOf(name)?.partitions).toHaveLength(all);
      };
    },
  };
}

test("told that a member left, the others heartbeat and take over its partitions without waiting for their interval", async () => {
  const g = hurriedGroup("hurried", 100);
  // `stays` heartbeats every 40 s (from its start), and its fetches return every 100 ms: only a
  // hurried heartbeat can tell it within the 20 s waited below that its group is rebalancing.
  // `leaves` joins first and heartbeats every second, so it learns of `stays` joining by itself.
  const leaves = g.member("leaves", 1000);
  const stays = g.member("stays", 40_000);
  try {
    await g.start(leaves, stays);
    await g.split("stays", "leaves");
    // Past the brisk time after its last join (kafka-client.ts), when `stays` heartbeats at 50 ms.
    await Bun.sleep(ACTIVE_FOR_MS);
    const takesAll = g.watch("stays");
    await leaves.disconnect();
    heartbeatSoon(g.group);
    await takesAll(20_000);
  } finally {
    await Promise.all([stays.disconnect(), leaves.disconnect()]);
  }
}, 90_000);

test("a member at work fetches with a short wait, so a hurried one rejoins without waiting out its fetch", async () => {
  // Fetches that may wait 30 s for a record: once records stop, only the shorter wait of a
  // member at work lets `stays` send its hurried heartbeat within the 10 s waited below.
  const g = hurriedGroup("at-work", 30_000);
  const leaves = g.member("leaves", 1000);
  const stays = g.member("stays", 40_000);
  const producer = kafka.producer();
  await producer.connect();
  // Records on every partition keep both members' fetches returning while they join and split.
  let producing = true;
  const traffic = (async () => {
    for (let n = 0; producing; n++) {
      await producer.send({ topic: g.topic, messages: [{ partition: n % g.all, value: "work" }] });
      await Bun.sleep(50);
    }
  })();
  try {
    await g.start(leaves, stays);
    await g.split("stays", "leaves");
    // Past the brisk time after their last join, so that only being at work keeps them brisk. A
    // new group's members start at the end of the topic: each must read records of its own.
    await Bun.sleep(ACTIVE_FOR_MS);
    await g.read("stays", "leaves");
    producing = false;
    await traffic;
    // The last records are read; from here on a fetch returns only when its wait is over.
    await Bun.sleep(2 * ACTIVE_FETCH_WAIT_MS);
    const takesAll = g.watch("stays");
    await leaves.disconnect();
    heartbeatSoon(g.group);
    await takesAll(10_000);
  } finally {
    producing = false;
    await traffic.catch(() => {});
    await Promise.all([stays.disconnect(), leaves.disconnect(), producer.disconnect()]);
  }
}, 90_000);

test("a member that has just joined hears of the next join within a short fetch wait, not its interval", async () => {
  // Fetch waits and heartbeat intervals of 30 s, and no records: only a member that just joined
  // fetching and heartbeating briskly lets `first` hear of `second` joining within the 10 s waited
  // below, so that the two share the partitions (as workers coming back after a broker outage).
  const g = hurriedGroup("just-joined", 30_000);
  const first = g.member("first", 30_000);
  const second = g.member("second", 30_000);
  try {
    // Both connected first: only `second`'s join itself falls within `first`'s brisk 2 s.
    await g.ready(first, second);
    await g.start(first);
    await within(20_000, "the first member joining", () => g.holds("first") === g.all);
    // Not awaited: kafkajs's run() returns once the member joined, that is once `first` rejoined.
    const joining = g.start(second);
    joining.catch(() => {}); // awaited below; a failed wait must not leave it unhandled
    await within(
      10_000,
      "the two members sharing the partitions",
      () => g.holds("second") > 0 && g.holds("first") < g.all,
    );
    await joining;
  } finally {
    await Promise.all([first.disconnect(), second.disconnect()]);
  }
}, 90_000);
