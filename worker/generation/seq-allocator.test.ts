import { afterAll, expect, test } from "bun:test";
import { createRedis } from "../redis/redis-client.ts";
import { deleteKeys, freshPrefix, TEST_REDIS_URL } from "../redis/redis-test-env.ts";
import { createGenerationState } from "./generation-state.ts";
import { seqAllocator } from "./seq-allocator.ts";

const redis = await createRedis(TEST_REDIS_URL);
const prefix = freshPrefix();
const state = createGenerationState(redis, prefix);
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.close();
});

test("numbers come in call order, across block refills, from blocks reserved in Redis", async () => {
  const take = seqAllocator((count) => state.reserveSeqs("g1", count), 8);
  const seqs = await Promise.all(Array.from({ length: 20 }, () => take()));
  expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(Number(await redis.send("GET", [`${prefix}gen:g1:kseq`]))).toBe(24);
});

test("an instance taking over numbers above everything the previous one reserved", async () => {
  const crashed = seqAllocator((count) => state.reserveSeqs("g2", count), 8);
  await crashed();
  await crashed();
  const successor = seqAllocator((count) => state.reserveSeqs("g2", count), 8);
  expect(await successor()).toBe(9);
});
