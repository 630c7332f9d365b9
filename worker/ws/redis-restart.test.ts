/**
 * Live delivery across a Redis restart: the whole pipeline on a redis-server of this test's own
 * (persistent, so a restart loses nothing already written), killed and started again while a
 * generation renders. The open WebSocket keeps receiving, and sees every `seq` once, in order, to
 * the terminal message: what was published while its server's subscription was down is read from
 * the event log when the subscription comes back.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { type PrivateRedis, startPrivateRedis } from "../testing/private-redis.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";
import { record, seqGaps } from "../testing/ws-client.ts";

const provider = scriptedProvider([]);
let server: PrivateRedis;
let p: Pipeline;

beforeAll(async () => {
  server = await startPrivateRedis({ persistent: true });
  p = await startPipeline({ provider, workers: 1, redisUrl: server.url });
}, 60_000);
afterAll(async () => {
  await p.stop();
  await server.stop();
});

test("a WebSocket open across a Redis restart receives every event, gap-free, to the terminal one", async () => {
  // Held until the socket has its snapshot, so the rendering status arrives live, not inside it.
  provider.script.push({ kind: "gate", held: true });
  const calls = provider.calls;
  const response = await p.submit("restart", { prompt: "a lighthouse in a storm", width: 256, height: 256 });
  expect(response.status).toBe(202);
  const { links } = (await response.json()) as { links: { events: string } };
  const client = record(links.events);
  await client.until((m) => m.type === "snapshot");
  while (provider.calls === calls) await Bun.sleep(10);
  provider.release();
  await client.until((m) => m.type === "status" && m.stage === "rendering");

  await server.kill();
  // The generation goes on while Redis is away: its events wait in Kafka for the relay.
  provider.release();
  await Bun.sleep(2_000);
  await server.restart();

  const { code } = await Promise.race([
    client.closed,
    Bun.sleep(60_000).then(() => ({ code: -1, reason: "no terminal message within 60 s" })),
  ]);
  expect(code).toBe(1000);
  expect(client.messages.at(-1)?.type).toBe("completed");
  expect(seqGaps(client.messages)).toEqual([]);
}, 120_000);
