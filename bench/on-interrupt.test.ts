import { expect, test } from "bun:test";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Runs the fixture, waits for its child's pid, signals it, and returns its exit code and the child's pid. */
async function interrupted(signal: "SIGTERM" | "SIGINT", ...args: string[]) {
  const bench = Bun.spawn([process.execPath, new URL("./on-interrupt-fixture.ts", import.meta.url).pathname, ...args], {
    stdout: "pipe",
  });
  const reader = bench.stdout.getReader();
  let printed = "";
  while (!printed.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    printed += new TextDecoder().decode(value);
  }
  const pid = Number(printed.trim());
  expect(alive(pid)).toBe(true);
  bench.kill(signal);
  return { code: await bench.exited, pid };
}

test.each([
  ["SIGTERM", 143],
  ["SIGINT", 130],
] as const)("a bench stopped by %s stops the processes it started and exits %d", async (signal, exitCode) => {
  const { code, pid } = await interrupted(signal);
  expect(code).toBe(exitCode);
  expect(alive(pid)).toBe(false);
});

test("a cleanup already forgotten (its stack stopped normally) is not run again", async () => {
  const { code, pid } = await interrupted("SIGTERM", "forget");
  expect(code).toBe(143);
  expect(alive(pid)).toBe(true);
  process.kill(pid);
});
