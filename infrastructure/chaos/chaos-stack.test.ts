/**
 * A chaos stack stopped while it is still starting (Ctrl-C in the first seconds, a test that timed
 * out) leaves nothing behind: the private Redis that is already up and the broker still starting
 * are both stopped, and the start gives up instead of going on to start the pipeline. One that
 * never comes up says why in its error, from the pipeline's own log.
 */
import { expect, test } from "bun:test";
import { startChaosStack, stopChaosStacks } from "./chaos-stack.ts";

/** Names of this process's child processes. */
async function children(): Promise<string[]> {
  const ps = Bun.spawn(["ps", "-o", "comm=", "--ppid", String(process.pid)], { stdout: "pipe" });
  return (await new Response(ps.stdout).text()).split("\n").filter((name) => name && name !== "ps");
}

test("stopped while its broker is still starting: no Redis, broker or pipeline process is left", async () => {
  const starting = startChaosStack({ workers: 1, users: 1, log: () => {} });
  const outcome = starting.then(
    () => "started",
    (error: Error) => error.message,
  );
  // Redis answers within a fraction of a second; the broker takes seconds.
  while (!(await children()).includes("redis-server")) await Bun.sleep(20);
  await stopChaosStacks();

  expect(await children()).toEqual([]);
  expect(await outcome).toMatch(/stopped while it started/);
}, 120_000);

test("a pipeline that never comes up: the error carries what its processes logged", async () => {
  // Processes that refuse their configuration exit at once, again and again.
  const starting = startChaosStack({
    workers: 1,
    users: 1,
    env: { LOG_LEVEL: "chatty" },
    readyWithinMs: 10_000,
    log: () => {},
  });
  const message = await starting.then(
    () => "started",
    (error: Error) => error.message,
  );
  expect(message).toContain("the workers ready did not happen");
  expect(message).toMatch(/"msg":"child exited; restarting".*"child":"worker-1"/);
  expect(await children()).toEqual([]);
}, 120_000);
