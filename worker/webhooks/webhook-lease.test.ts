/**
 * A dispatcher killed mid-delivery loses nothing: real relay processes (`worker/relay/main.ts`),
 * the first SIGKILLed while its POST is in flight; the second takes the delivery when the lease
 * runs out and sends it again with the same webhook-id (at least once).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Webhook } from "standardwebhooks";
import { ROOT } from "../../infrastructure/paths.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { until } from "../testing/until.ts";

interface Received {
  headers: Record<string, string>;
  body: string;
}
const received: Received[] = [];
let releaseHeld: () => void = () => {};
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    received.push({ headers: Object.fromEntries(request.headers), body: await request.text() });
    // The first delivery is held open until its sender is dead.
    if (received.length === 1) await new Promise<void>((resolve) => (releaseHeld = resolve));
    return new Response(null, { status: 204 });
  },
});

let p: Pipeline;
const children: Subprocess[] = [];
beforeAll(async () => {
  p = await startPipeline({ edgeEnv: { ALLOW_PRIVATE_WEBHOOKS: "true" }, webhooks: { enabled: false } });
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  releaseHeld();
  await receiver.stop(true);
  await p.stop();
});

function startRelay(name: string): Subprocess {
  const child = Bun.spawn([process.execPath, join(ROOT, "worker/relay/main.ts")], {
    cwd: mkdtempSync(join(tmpdir(), "relay-")),
    env: {
      PATH: process.env.PATH ?? "",
      KAFKA_BROKERS: "127.0.0.1:9092",
      KAFKA_TOPIC_PREFIX: p.kafkaConfig.topicPrefix,
      KAFKA_CONSUMER_GROUP: p.kafkaConfig.consumerGroup,
      KAFKA_RELAY_GROUP: `${p.kafkaConfig.consumerGroup}-${name}`,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: p.prefix,
      ALLOW_PRIVATE_WEBHOOKS: "true",
      // Lease = twice this: short, so the test does not wait long for it to run out.
      WEBHOOK_TIMEOUT_MS: "1500",
      LOG_LEVEL: "error",
    },
    stdout: "inherit",
    stderr: "inherit",
  });
  children.push(child);
  return child;
}

test("SIGKILL of the dispatcher mid-delivery: the delivery still happens, with the same webhook-id", async () => {
  const secret = await p.webhookSecret("kat");
  const response = await p.submit("kat", {
    prompt: "survives",
    width: 256,
    height: 256,
    webhookUrl: `http://127.0.0.1:${receiver.port}/hook`,
  });
  const { id } = (await response.json()) as { id: string };
  await p.waitFor("kat", id);

  const first = startRelay("a");
  await until(() => received.length === 1);
  first.kill("SIGKILL");
  await first.exited;
  // Still due (leased, not removed), with one attempt counted.
  const keys = redisKeys(p.prefix);
  expect(Number(await p.redis.send("ZCARD", [keys.webhooksDue()]))).toBe(1);

  startRelay("b");
  await until(() => received.length === 2);
  await until(async () => Number(await p.redis.send("ZCARD", [keys.webhooksDue()])) === 0);
  expect(Number(await p.redis.send("HLEN", [keys.webhookAttempts()]))).toBe(0);
  expect(Number(await p.redis.send("HLEN", [keys.webhookLeases()]))).toBe(0);

  const [held, redelivered] = received as [Received, Received];
  expect(redelivered.headers["webhook-id"]).toBe(held.headers["webhook-id"]);
  for (const delivery of [held, redelivered])
    expect(new Webhook(secret).verify(delivery.body, delivery.headers)).toMatchObject({ id, status: "completed" });
  await Bun.sleep(500);
  expect(received).toHaveLength(2);
}, 90_000);
