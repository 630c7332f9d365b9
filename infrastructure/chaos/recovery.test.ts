import { describe, expect, test } from "bun:test";
import type { Submission } from "./load-driver.ts";
import { allowedAboveP99, normalLatencyMs, p99Ms, percentile, recoveryMs, slowTimelines } from "./recovery.ts";

/** A submit at `t` that was accepted and ended `latency` ms later (never, when null), or refused with `status`. */
function sub(t: number, latency: number | null, status = 202): Submission {
  return {
    n: t,
    user: "u",
    idempotencyKey: `k${t}`,
    prompt: `p${t}`,
    submittedAt: t,
    respondedAt: t + 5,
    status,
    ...(status === 202
      ? {
          id: `id${t}`,
          watch: {
            seqs: [],
            connections: [],
            terminals: latency === null ? [] : [{ type: "completed", seq: 2, at: t + latency }],
          },
        }
      : {}),
  };
}

describe("recoveryMs", () => {
  const normal = 1000;
  test("a fault nobody felt recovers as soon as the first submit after it ends", () => {
    const subs = [sub(0, 100), sub(1000, 100), sub(2000, 100), sub(3000, 100)];
    expect(recoveryMs(subs, { injectedAt: 1500, referenceAt: 1500 }, normal)).toBe(600);
  });

  test("stalled submits after the fault delay it until the first of the normal run after them ends", () => {
    const subs = [
      sub(1000, 30_000),
      sub(2000, 29_000),
      sub(3000, 200),
      sub(4000, 5000),
      sub(5000, 300),
      sub(6000, 250),
    ];
    // #4000 was slow again, so the normal run starts at #5000, ending at 5300.
    expect(recoveryMs(subs, { injectedAt: 900, referenceAt: 900 }, normal)).toBe(5300 - 900);
  });

  test("work in flight at the fault must end too", () => {
    const subs = [sub(0, 20_000), sub(1000, 100), sub(2000, 100)];
    expect(recoveryMs(subs, { injectedAt: 500, referenceAt: 500 }, normal)).toBe(20_000 - 500);
    // Not ended at all: not recovered, however well the submits after the fault flow.
    expect(recoveryMs([sub(0, null), ...subs.slice(1)], { injectedAt: 500, referenceAt: 500 }, normal)).toBeNull();
  });

  test("refused submits (503) are not normal flow; counted from the dependency answering again", () => {
    const subs = [sub(1000, null, 503), sub(2000, null, 503), sub(13_000, 400), sub(14_000, 300)];
    expect(recoveryMs(subs, { injectedAt: 500, referenceAt: 12_500 }, normal)).toBe(13_400 - 12_500);
  });

  test("not recovered while the last submit is slow or unended, or the normal run is shorter than asked", () => {
    expect(recoveryMs([sub(1000, 100), sub(2000, null)], { injectedAt: 0, referenceAt: 0 }, normal)).toBeNull();
    expect(
      recoveryMs([sub(1000, 5000), sub(2000, 100)], { injectedAt: 0, referenceAt: 0 }, normal, 3000, 2),
    ).toBeNull();
  });

  test("only submits before `until` are judged", () => {
    const subs = [sub(1000, 100), sub(2000, null)];
    expect(recoveryMs(subs, { injectedAt: 0, referenceAt: 0 }, normal, 1500)).toBe(1100);
  });
});

describe("latency", () => {
  test("p99 of accepted, ended submits only", () => {
    const subs = [...Array.from({ length: 99 }, (_, i) => sub(i, 100)), sub(200, 900), sub(300, null, 503)];
    expect(p99Ms(subs)).toBe(100);
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile([], 99)).toBeNull();
  });
  test("the generations over a bound, slowest first, and how many a p99 under it allows", () => {
    const subs = [sub(0, 100), sub(1, 700), sub(2, 300), sub(3, 900), sub(4, null), sub(5, 5000, 503)];
    expect(slowTimelines(subs, 300).map((t) => t.latencyMs)).toEqual([900, 700]);
    // Where their time went, from a fault's reference time (sub() submits at its first argument).
    expect(slowTimelines(subs, 300, 2)).toMatchObject([
      { latencyMs: 900, submittedMs: 1, acceptedMs: 6, firstEventMs: null, endedMs: 901 },
      { latencyMs: 700, submittedMs: -1, acceptedMs: 4, firstEventMs: null, endedMs: 699 },
    ]);
    // 474 accepted: the 470th value is the p99, so 4 may lie above the bound.
    expect(allowedAboveP99(474)).toBe(4);
    const values = [...Array.from({ length: 470 }, () => 100), 900, 900, 900, 900];
    expect(percentile(values, 99)).toBe(100);
    expect(percentile([...values.slice(1), 900], 99)).toBe(900);
    expect(allowedAboveP99(100)).toBe(1);
    expect(allowedAboveP99(99)).toBe(0);
  });
  test("normal latency is twice the baseline p99, at least a second above it", () => {
    expect(normalLatencyMs(300)).toBe(1300);
    expect(normalLatencyMs(4000)).toBe(8000);
  });
});
