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
  const seqs = seqAllocator((count) => state.reserveSeqs("g1", count), 8);
  const taken = await Promise.all(Array.from({ length: 20 }, () => seqs.take()));
  expect(taken).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(Number(await redis.send("GET", [`${prefix}gen:g1:kseq`]))).toBe(24);
});

test("an instance taking over numbers above everything the previous one reserved", async () => {
  const crashed = seqAllocator((count) => state.reserveSeqs("g2", count), 8);
  await crashed.take();
  await crashed.take();
  const successor = seqAllocator((count) => state.reserveSeqs("g2", count), 8);
  expect(await successor.take()).toBe(9);
});

test("a block reserved ahead is the one the first numbers come from: one reservation, not two", async () => {
  const reserved: number[] = [];
  const seqs = seqAllocator(async (count) => {
    reserved.push(count);
    return state.reserveSeqs("g3", count);
  }, 4);
  seqs.reserveAhead();
  seqs.reserveAhead();
  expect(reserved).toEqual([4]);
  expect(await Promise.all([seqs.take(), seqs.take(), seqs.take()])).toEqual([1, 2, 3]);
  seqs.reserveAhead(); // only ever the first block: nothing more is reserved
  expect(reserved).toEqual([4]);
  expect(await Promise.all([seqs.take(), seqs.take()])).toEqual([4, 5]);
  expect(reserved).toEqual([4, 4]);
});

test("a reservation ahead that fails fails the first take, and the next take reserves afresh", async () => {
  let calls = 0;
  const seqs = seqAllocator(async (count) => {
    calls++;
    if (calls === 1) throw new Error("Redis away");
    return state.reserveSeqs("g4", count);
  }, 4);
  seqs.reserveAhead();
  await expect(seqs.take()).rejects.toThrow("Redis away");
  expect(await seqs.take()).toBe(1);
  expect(calls).toBe(2);
});
