import { expect, test } from "bun:test";
import { UUID_V7, uuidv7Floor, uuidv7Generator, uuidv7Time } from "./uuid7.ts";

// Its own generator: minting ids of other times must not move the clock of the process's one.
const uuidv7 = uuidv7Generator();

test("ids are UUIDv7 carrying their creation time", () => {
  // Later than any id this process minted so far (the generator never goes back in time, and
  // other test files in the same run mint ids first), so the id carries exactly this time.
  const at = Date.now() + 1_000;
  const id = uuidv7(at);
  expect(id).toMatch(UUID_V7);
  expect(uuidv7Time(id)).toBe(at);
});

test("ids minted in the same millisecond still sort in creation order", () => {
  const at = Date.now() + 60_000;
  const ids = Array.from({ length: 5000 }, () => uuidv7(at));
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});

test("the floor of a millisecond sorts between the ids minted before it and those minted from it on", () => {
  const at = Date.now() + 120_000;
  const before = uuidv7(at - 1);
  const from = uuidv7(at);
  const floor = uuidv7Floor(at);
  expect(floor).toMatch(UUID_V7);
  expect(uuidv7Time(floor)).toBe(at);
  expect([from, floor, before].sort()).toEqual([before, floor, from]);
});
