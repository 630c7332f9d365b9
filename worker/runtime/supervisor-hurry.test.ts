/**
 * The whole path of a hurried heartbeat, with real processes and the real broker: a group member
 * dies, the supervisor removes it and tells its other children, and a surviving member whose
 * heartbeat interval is 40 s rejoins within seconds. Without the message, or a child that does not
 * act on it, the survivor goes on with its own partitions until its interval is up.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { topicSpecs } from "../../shared/topics.ts";
import { createFreshTopics } from "../gateway/gateway-fixtures.ts";
import { createMemberEvictor } from "../kafka/group-membership.ts";
import { ACTIVE_FOR_MS } from "../kafka/kafka-client.ts";
import { deleteTestTopics, freshKafkaConfig, silentLogger, testKafka } from "../testing/kafka-test-env.ts";
import { createSupervisor } from "./supervisor.ts";

const config = freshKafkaConfig();
const kafka = testKafka(config);
const topic = topicSpecs(config).requests.name;
const all = topicSpecs(config).requests.partitions;
const dir = mkdtempSync(join(tmpdir(), "hurry-"));
const evict = createMemberEvictor(kafka, silentLogger);
const supervisor = createSupervisor(silentLogger, { stopGraceMs: 10_000, evict: (m) => evict(m, 60_000) });
const CHILD = new URL("../testing/group-member-child.ts", import.meta.url).pathname;

const joins = (name: string): { at: number; partitions: number[] }[] => {
  const file = join(dir, `${name}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
};
const start = (name: string, heartbeatMs: number) =>
  supervisor.start({
    name,
    cmd: [process.execPath, CHILD],
    env: {
      PATH: process.env.PATH ?? "",
      GROUP_ID: `${config.consumerGroup}-hurry`,
      TOPIC: topic,
      HEARTBEAT_MS: String(heartbeatMs),
      OUT: join(dir, `${name}.jsonl`),
    },
  });
async function until(check: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(50);
  }
  return true;
}
const split = (name: string) => (joins(name).at(-1)?.partitions.length ?? all) < all;

beforeAll(async () => {
  await createFreshTopics(kafka, config);
}, 60_000);
afterAll(async () => {
  await supervisor.stop();
  await deleteTestTopics(config);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test("a member dies: the supervisor tells the survivor, which rejoins long before its 40 s heartbeat interval", async () => {
  // `dies` joins first and heartbeats every second, so it learns of `stays` joining by itself.
  start("dies", 1000);
  expect(await until(() => joins("dies").length > 0, 30_000)).toBe(true);
  start("stays", 40_000);
  expect(await until(() => split("stays") && split("dies"), 30_000)).toBe(true);
  // A member that has just joined heartbeats briskly whatever its interval (kafka-client.ts):
  // past that window, only the supervisor's message can hurry `stays`.
  await Bun.sleep(ACTIVE_FOR_MS);
  const joinsBefore = joins("stays").length;

  // A pid, never 0: kill(0) would signal this test runner's whole process group.
  const dies = supervisor.pids().dies;
  expect(dies).toBeGreaterThan(0);
  process.kill(dies as number, "SIGKILL");
  // 20 s: half the survivor's interval, which began when it started, seconds ago.
  expect(await until(() => joins("stays").length > joinsBefore, 20_000)).toBe(true);
}, 120_000);
