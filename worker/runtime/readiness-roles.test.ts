/**
 * The status relay and the history writer, run as their containers run them (HEALTH_PORT set),
 * answer /readyz once their consumer joined, against the real broker and Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../infrastructure/paths.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { ensureTopics } from "../kafka/topic-admin.ts";
import { freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../testing/kafka-test-env.ts";
import { freePort } from "../testing/process-pipeline.ts";

const kafka = freshKafkaConfig();
const run = kafka.topicPrefix;

async function readyWithin(url: string, attempts: number): Promise<Response | null> {
  for (let i = 0; i < attempts; i++) {
    const response = await fetch(url).catch(() => null);
    if (response?.status === 200) return response;
    await Bun.sleep(250);
  }
  return null;
}

beforeAll(async () => {
  const admin = testKafka(kafka).admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(topicSpecs(kafka)));
  await admin.disconnect();
});
afterAll(() => deleteTestTopics(kafka));

describe.each([
  ["worker/relay/main.ts", { KAFKA_RELAY_GROUP: `${run}relay` }],
  ["worker/history/main.ts", { KAFKA_HISTORY_GROUP: `${run}history` }],
])("%s with HEALTH_PORT", (script, roleEnv) => {
  test("serves /readyz: 200 once its consumer joined the group; stops cleanly on SIGTERM", async () => {
    const port = freePort();
    const proc = Bun.spawn([process.execPath, join(ROOT, script)], {
      cwd: mkdtempSync(join(tmpdir(), "role-")),
      env: {
        PATH: process.env.PATH ?? "",
        KAFKA_BROKERS: "127.0.0.1:9092",
        KAFKA_TOPIC_PREFIX: run,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: freshPrefix(),
        DATABASE_URL: `file:${join(mkdtempSync(join(tmpdir(), "history-")), "h.sqlite")}`,
        HEALTH_PORT: String(port),
        LOG_LEVEL: "warn",
        ...roleEnv,
      },
      stdout: "ignore",
      stderr: "pipe",
    });
    const ready = await readyWithin(`http://127.0.0.1:${port}/readyz`, 240);
    const body = ready ? await ready.json() : null;
    proc.kill("SIGTERM");
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(ready ? null : `never ready; stderr: ${stderr}`).toBeNull();
    expect(body).toEqual({ status: "ready" });
    expect(code).toBe(0);
    expect(await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => "closed")).toBe("closed");
  }, 90_000);
});
