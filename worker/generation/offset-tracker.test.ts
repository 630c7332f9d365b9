import { expect, test } from "bun:test";
import { OffsetTracker } from "./offset-tracker.ts";

test("commits only up to the lowest unfinished offset, per partition", () => {
  const t = new OffsetTracker();
  for (const o of ["5", "6", "7"]) t.start(0, o);
  t.start(1, "10");
  expect(t.committable()).toEqual([
    { partition: 0, offset: "5" },
    { partition: 1, offset: "10" },
  ]);
  t.markCommitted(t.committable());
  t.finish(0, "6");
  t.finish(0, "7");
  expect(t.committable()).toEqual([]);
  t.finish(0, "5");
  expect(t.committable()).toEqual([{ partition: 0, offset: "8" }]);
  t.markCommitted(t.committable());
  t.finish(1, "10");
  expect(t.committable()).toEqual([{ partition: 1, offset: "11" }]);
  expect(t.inFlight()).toBe(0);
});

test("forgets revoked partitions", () => {
  const t = new OffsetTracker();
  t.start(0, "1");
  t.start(2, "3");
  t.retain([2]);
  expect(t.committable()).toEqual([{ partition: 2, offset: "3" }]);
  expect(t.inFlight()).toBe(1);
});
