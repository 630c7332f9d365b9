import { describe, expect, test } from "bun:test";
import { PriorityBuffer } from "./priority-buffer.ts";

const drain = <T>(buffer: PriorityBuffer<T>) => {
  const out: T[] = [];
  for (let item = buffer.take(); item !== undefined; item = buffer.take()) out.push(item);
  return out;
};

describe("priority buffer", () => {
  test("takes high before normal before low, each in arrival order", () => {
    const buffer = new PriorityBuffer<string>(10, 100);
    const items: [string, number][] = [
      ["low-1", 2],
      ["normal-1", 1],
      ["high-1", 0],
      ["low-2", 2],
      ["high-2", 0],
      ["normal-2", 1],
    ];
    for (const [name, rank] of items) buffer.push(name, name, rank);
    expect(drain(buffer)).toEqual(["high-1", "high-2", "normal-1", "normal-2", "low-1", "low-2"]);
  });

  test("within a level, first submitted first, whatever order the partitions were read in", () => {
    const buffer = new PriorityBuffer<string>(10, 100);
    // One fetch brought three partitions; their batches were handled in another order.
    buffer.push("high-2", "p3:0", 0, { submittedAt: 1002 });
    buffer.push("low-1", "p1:0", 2, { submittedAt: 1000 });
    buffer.push("high-1", "p5:0", 0, { submittedAt: 1001 });
    buffer.push("high-3", "p0:0", 0, { submittedAt: 1002 });
    expect(drain(buffer)).toEqual(["high-1", "high-2", "high-3", "low-1"]);
  });

  test("a low request overtaken by younger ones counts the overtakes by submission time, not read order", () => {
    const buffer = new PriorityBuffer<string>(10, 1);
    // Read after the high one, submitted before it: being passed over by it is an overtake.
    buffer.push("high", "p0:0", 0, { submittedAt: 2000 });
    buffer.push("low", "p1:0", 2, { submittedAt: 1000 });
    buffer.push("normal", "p2:0", 1, { submittedAt: 3000 });
    // After one overtake (aging 1) low competes as normal and wins by age.
    expect(drain(buffer)).toEqual(["high", "low", "normal"]);
  });

  test("a low request overtaken `aging` times moves up a level, and after twice that wins by age", () => {
    const buffer = new PriorityBuffer<string>(20, 2);
    buffer.push("low", "low", 2);
    for (let i = 1; i <= 6; i++) buffer.push(`high-${i}`, `high-${i}`, 0);
    expect(drain(buffer)).toEqual(["high-1", "high-2", "high-3", "high-4", "low", "high-5", "high-6"]);
  });

  test("under a steady stream of high requests a low one still starts", () => {
    const buffer = new PriorityBuffer<string>(5, 3);
    buffer.push("low", "low", 2);
    const started: string[] = [];
    let next = 0;
    while (!started.includes("low") && next < 100) {
      while (!buffer.full) buffer.push(`high-${next}`, `high-${next++}`, 0);
      started.push(buffer.take() ?? "");
    }
    expect(started).toContain("low");
    expect(started.indexOf("low")).toBe(6);
  });

  test("a request past its start deadline goes first; entries are bounded and deduplicated by key", () => {
    let now = 1000;
    const buffer = new PriorityBuffer<string>(3, 8, () => now);
    buffer.push("high", "p0:1", 0);
    buffer.push("low-with-deadline", "p0:2", 2, { expiresAt: 1500 });
    buffer.push("high", "p0:1", 0);
    expect(buffer.size).toBe(2);
    buffer.push("normal", "p1:7", 1);
    expect(buffer.full).toBe(true);
    now = 2000;
    expect(drain(buffer)).toEqual(["low-with-deadline", "high", "normal"]);
  });

  test("takeExpired removes exactly the requests past their deadline", () => {
    let now = 1000;
    const buffer = new PriorityBuffer<string>(5, 8, () => now);
    buffer.push("soon", "a", 1, { expiresAt: 1500 });
    buffer.push("later", "b", 1, { expiresAt: 5000 });
    buffer.push("never", "c", 1);
    expect(buffer.takeExpired()).toEqual([]);
    now = 2000;
    expect(buffer.takeExpired()).toEqual(["soon"]);
    expect(drain(buffer)).toEqual(["later", "never"]);
  });

  test("drop removes what a revoked partition had buffered and frees space", async () => {
    const buffer = new PriorityBuffer<{ partition: number }>(2, 8);
    buffer.push({ partition: 0 }, "0:1", 1);
    buffer.push({ partition: 1 }, "1:1", 1);
    const freed = buffer.space();
    expect(buffer.drop((e) => e.partition === 1)).toEqual([{ partition: 1 }]);
    await freed;
    expect(buffer.size).toBe(1);
    expect(buffer.full).toBe(false);
  });
});
