import { expect, test } from "bun:test";
import { UUID_V7, uuidv7Floor, uuidv7Generator, uuidv7Time } from "./uuid7.ts";

// Each test mints with a generator of its own: ids of other times must neither move the clock of
// the process's generator (other test files mint with it) nor depend on what ran before here.

test("ids are UUIDv7 carrying their creation time, past ones too", () => {
  const uuidv7 = uuidv7Generator();
  const at = Date.UTC(2026, 10, 27, 13, 0, 0);
  const id = uuidv7(at);
  expect(id).toMatch(UUID_V7);
  expect(uuidv7Time(id)).toBe(at);
});

test("ids minted in the same millisecond still sort in creation order", () => {
  const uuidv7 = uuidv7Generator();
  const at = Date.now();
  const ids = Array.from({ length: 5000 }, () => uuidv7(at));
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});

test("a clock stepping back never makes ids go back", () => {
  const uuidv7 = uuidv7Generator();
  const at = Date.now();
  const later = uuidv7(at);
  const afterStepBack = uuidv7(at - 5_000);
  expect(afterStepBack > later).toBe(true);
  expect(uuidv7Time(afterStepBack)).toBe(at);
});

test("the floor of a millisecond sorts between the ids minted before it and those minted from it on", () => {
  const uuidv7 = uuidv7Generator();
  const at = Date.now();
  const before = uuidv7(at - 1);
  const from = uuidv7(at);
  const floor = uuidv7Floor(at);
  expect(floor).toMatch(UUID_V7);
  expect(uuidv7Time(floor)).toBe(at);
  expect([from, floor, before].sort()).toEqual([before, floor, from]);
});
