import { expect, test } from "bun:test";
import { createWakeLoop } from "./wake-loop.ts";

/** A step the test finishes by hand, answering the given ms until the next run. */
function manualStep() {
  const finishers: ((nextMs: number) => void)[] = [];
  return {
    step: () => new Promise<number>((resolve) => finishers.push(resolve)),
    runs: () => finishers.length,
    finish: (nextMs: number) => finishers.at(-1)?.(nextMs),
  };
}
const settle = () => Bun.sleep(0);

test("a wake during a run makes exactly one more run right after it, whatever the run answered", async () => {
  const s = manualStep();
  const loop = createWakeLoop(s.step, 60_000);
  loop.wake();
  loop.wake();
  loop.wake();
  expect(s.runs()).toBe(1);
  s.finish(60_000);
  await settle();
  expect(s.runs()).toBe(2);
  s.finish(60_000);
  await settle();
  expect(s.runs()).toBe(2);
  await loop.stop();
});

test("0 runs again at once; after stop nothing runs, and stop is safe twice", async () => {
  const s = manualStep();
  const loop = createWakeLoop(s.step, 60_000);
  loop.wake();
  s.finish(0);
  await settle();
  expect(s.runs()).toBe(2);
  const stopping = loop.stop();
  s.finish(0);
  await stopping;
  await loop.stop();
  loop.wake();
  expect(s.runs()).toBe(2);
});
