import { expect, test } from "bun:test";
import { createRandom, hashText } from "./random.ts";

const draws = (prompt: string, seed: number, n = 1000) => {
  const random = createRandom(prompt, seed);
  return Array.from({ length: n }, () => random.int(0, 15));
};

test("the same prompt and seed replay the same sequence", () => {
  expect(draws("a cat", 7)).toEqual(draws("a cat", 7));
});

test("neighbouring seeds and similar prompts give unrelated sequences", () => {
  const agreement = (a: number[], b: number[]) => a.filter((v, i) => v === b[i]).length / a.length;
  // Unrelated draws from 16 values agree about 1/16 of the time.
  expect(agreement(draws("a cat", 42), draws("a cat", 43))).toBeLessThan(0.12);
  expect(agreement(draws("a cat", 0), draws("a cat", 4294967295))).toBeLessThan(0.12);
  expect(agreement(draws("a cat", 42), draws("a cab", 42))).toBeLessThan(0.12);
});

test("values stay in their ranges", () => {
  const random = createRandom("ranges", 1);
  for (let i = 0; i < 1000; i++) {
    const x = random.next();
    expect(x >= 0 && x < 1).toBe(true);
    const k = random.int(3, 5);
    expect(k >= 3 && k <= 5).toBe(true);
  }
});

test("text hashing covers multi-byte characters", () => {
  expect(hashText("café")).not.toEqual(hashText("cafe"));
  expect(hashText("🌊")).toEqual(hashText("🌊"));
});
