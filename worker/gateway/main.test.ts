import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Kafka as UpstashKafka } from "@upstash/kafka";
import { ROOT } from "../../infrastructure/paths.ts";
import { topicSpecs } from "../../shared/topics.ts";
import { deleteTestTopics, freshKafkaConfig, testKafka } from "../testing/kafka-test-env.ts";
import { freePort } from "../testing/process-pipeline.ts";
import { createFreshTopics, edgeMessage, readMessages } from "./gateway-fixtures.ts";

const config = freshKafkaConfig();
const kafka = testKafka(config);
const requests = topicSpecs(config).requests.name;
const password = `test-${crypto.randomUUID()}`;

/** A port nothing listens on right now, for the gateway process to take. */
beforeAll(() => createFreshTopics(kafka, config));
afterAll(() => deleteTestTopics(config));

describe("worker/gateway/main.ts", () => {
  test("serves produces on KAFKA_REST_PORT and exits 0 on SIGTERM, even when signalled twice", async () => {
    const port = freePort();
    const proc = Bun.spawn([process.execPath, join(ROOT, "worker/gateway/main.ts")], {
      env: {
        PATH: process.env.PATH ?? "",
        KAFKA_BROKERS: "127.0.0.1:9092",
        KAFKA_TOPIC_PREFIX: config.topicPrefix,
        KAFKA_REST_PORT: String(port),
        KAFKA_REST_PASSWORD: password,
        LOG_LEVEL: "info",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const url = `http://127.0.0.1:${port}`;
    // Ready once the producer is connected: health answers 200 from then on.
    while (
      (await fetch(`${url}/healthz`).then(
        (r) => r.status,
        () => 0,
      )) !== 200
    )
      await Bun.sleep(50);

    const message = edgeMessage();
    const answer = await new UpstashKafka({ url, username: "pixel-edge", password })
      .producer()
      .produce(requests, message.value, { key: message.key, headers: message.headers });
    expect(answer.topic).toBe(requests);
    const [landed] = await readMessages(kafka, requests, 1);
    expect(landed?.key).toBe(message.key);

    proc.kill("SIGTERM");
    proc.kill("SIGINT");
    const [code, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { msg: string });
    expect(lines.filter((l) => l.msg === "Kafka REST gateway stopped")).toHaveLength(1);
  });
});
