import { afterAll, describe, expect, test } from "bun:test";
import { topicSpecs } from "../../shared/topics.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../testing/kafka-test-env.ts";
import { ConfigResourceTypes } from "./kafka-client.ts";
import { describeTopics, ensureTopics, waitUntilServed } from "./topic-admin.ts";

const config = freshKafkaConfig();
const specs = Object.values(topicSpecs(config));
const admin = testKafka(config).admin();

afterAll(async () => {
  await admin.disconnect();
  await deleteTestTopics(config);
});

describe("ensureTopics against the real broker", () => {
  test("creates the four topics and the dead-letter topic per spec, then a second run changes nothing", async () => {
    await admin.connect();
    const first = await ensureTopics(admin, specs);
    expect(first.map((o) => o.action)).toEqual(["created", "created", "created", "created", "created"]);

    const states = await describeTopics(
      admin,
      specs.map((s) => s.name),
    );
    expect(specs.map((s) => states.get(s.name)?.partitions)).toEqual([6, 3, 3, 3, 3]);
    expect(specs.map((s) => states.get(s.name)?.configs["retention.ms"])).toEqual([
      String(7 * 86400000),
      String(86400000),
      String(7 * 86400000),
      String(7 * 86400000),
      String(14 * 86400000),
    ]);
    expect(specs.at(-1)?.name).toBe(`${config.topicPrefix}image.generation.dead-letter`);

    const second = await ensureTopics(admin, specs);
    expect(second.map((o) => o.action)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]);
  });

  test("reconciles a retention edited by hand and reports the drift", async () => {
    const status = specs.find((s) => s.key === "status");
    if (!status) throw new Error("no status spec");
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: status.name,
          configEntries: [{ name: "retention.ms", value: "1234" }],
        },
      ],
    });
    const outcomes = await ensureTopics(admin, specs);
    const drift = outcomes.find((o) => o.topic === status.name);
    expect(drift).toMatchObject({ action: "reconciled" });
    expect(drift?.action === "reconciled" && drift.changes).toContainEqual({
      config: "retention.ms",
      from: "1234",
      to: String(86400000),
    });
    const after = await describeTopics(admin, [status.name]);
    expect(after.get(status.name)?.configs["retention.ms"]).toBe(String(86400000));
    expect(after.get(status.name)?.configs["min.insync.replicas"]).toBe("1");
  });

  test("grows a topic with fewer partitions than the spec and reports one with more", async () => {
    const other = freshKafkaConfig();
    const otherSpecs = Object.values(topicSpecs(other));
    const [requests, , , failed] = otherSpecs;
    if (!requests || !failed) throw new Error("missing spec");
    const entries = (configs: Record<string, string>) =>
      Object.entries(configs).map(([name, value]) => ({ name, value }));
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          { topic: requests.name, numPartitions: 2, configEntries: entries(requests.configs) },
          { topic: failed.name, numPartitions: 5, configEntries: entries(failed.configs) },
        ],
      });
      await waitUntilServed(admin, [requests.name, failed.name]);
      const outcomes = await ensureTopics(admin, otherSpecs);
      expect(outcomes).toContainEqual({ topic: requests.name, action: "partitions-grown", from: 2, to: 6 });
      expect(outcomes).toContainEqual({ topic: failed.name, action: "partitions-exceed-spec", actual: 5, expected: 3 });
      const states = await describeTopics(admin, [requests.name]);
      expect(states.get(requests.name)?.partitions).toBe(6);
    } finally {
      await deleteTestTopics(other);
    }
  });
});
