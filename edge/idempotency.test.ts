/**
 * Idempotency-Key abuse against the real pipeline: a key reused for another request is refused
 * (not answered with the first request's result), and a request in progress holds its key for
 * as long as it can take, yet one that never finishes does not hold it for a day.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { API_ERRORS } from "../shared/api-errors.ts";
import { sha256Hex } from "../shared/digest.ts";
import { redisKeys } from "../shared/redis-keys.ts";
import { endOffsetTotal } from "../worker/gateway/gateway-fixtures.ts";
import { type Pipeline, startPipeline } from "../worker/testing/pipeline-harness.ts";
import { scriptedProvider } from "../worker/testing/scripted-provider.ts";
import { SYNC_GENERATION_TIMEOUT_MS, SYNC_IDEMPOTENCY_CLAIM_SECONDS } from "./sync-generation.ts";

const provider = scriptedProvider([]);
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ provider });
});
afterAll(async () => {
  provider.release();
  await p.stop();
});

const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string } }).error;

test("the same key with another body is 422 idempotency_key_reused and produces nothing; the same body replays", async () => {
  const key = { "idempotency-key": "order-42" };
  const first = await p.submit("keyed", { prompt: "a red fox", width: 256, height: 256 }, key);
  expect(first.status).toBe(202);
  const { id } = (await first.json()) as { id: string };

  const offsets = await endOffsetTotal(p.kafka, p.topics.requests.name);
  const other = await p.submit("keyed", { prompt: "a blue whale", width: 256, height: 256 }, key);
  expect(other.status).toBe(422);
  expect(await errorOf(other)).toEqual({
    code: "idempotency_key_reused",
    message: API_ERRORS.idempotency_key_reused.message,
  });
  const deadlined = await p.submit(
    "keyed",
    { prompt: "a red fox", width: 256, height: 256 },
    { ...key, "cancel-after": "5m" },
  );
  expect(deadlined.status).toBe(422);
  expect(await endOffsetTotal(p.kafka, p.topics.requests.name)).toBe(offsets);

  // The same fields in another order are the same request: its answer is replayed.
  const again = await p.submit("keyed", { height: 256, width: 256, prompt: "a red fox" }, key);
  expect(again.status).toBe(202);
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  expect(((await again.json()) as { id: string }).id).toBe(id);
});

test("a synchronous request holds its key past its longest render, not for a day (a crashed one frees it)", async () => {
  const sync = p.startEdge({ ENABLE_KAFKA_IMAGE_GENERATION: "false" });
  provider.script.push({ kind: "gate" });
  const token = await p.token("crashy");
  const post = () =>
    fetch(`${sync}/api/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": "slow-1" },
      body: JSON.stringify({ prompt: "slow", width: 256, height: 256 }),
    });
  const calls = provider.calls;
  const first = post();
  const deadline = Date.now() + 15_000;
  while (provider.calls === calls && Date.now() < deadline) await Bun.sleep(20);

  // In progress: a repeat is told so. The claim outlasts the longest render (a repeat after a
  // minute must not start a second generation) and lapses soon after it if the edge dies now.
  const repeat = await post();
  expect(repeat.status).toBe(409);
  const record = redisKeys(p.prefix).idempotency(await sha256Hex("crashy"), await sha256Hex("slow-1"));
  const ttl = Number(await p.redis.send("TTL", [record]));
  expect(ttl).toBeGreaterThan(SYNC_GENERATION_TIMEOUT_MS / 1000);
  expect(ttl).toBeLessThanOrEqual(SYNC_IDEMPOTENCY_CLAIM_SECONDS);

  // Answered: the answer is kept for the key's whole day.
  provider.release();
  expect((await first).status).toBe(200);
  expect(Number(await p.redis.send("TTL", [record]))).toBeGreaterThan(SYNC_IDEMPOTENCY_CLAIM_SECONDS);
  expect((await post()).headers.get("idempotent-replayed")).toBe("true");
}, 60_000);
