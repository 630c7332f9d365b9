import { expect, test } from "bun:test";
import { isStopped } from "./process-state.ts";

test.skipIf(process.platform !== "linux")(
  "a process is stopped from SIGSTOP until SIGCONT; one that does not exist is not",
  async () => {
    const child = Bun.spawn([process.execPath, "-e", "await Bun.sleep(60000)"], { stdout: "ignore" });
    try {
      expect(isStopped(child.pid)).toBe(false);
      process.kill(child.pid, "SIGSTOP");
      const until = Date.now() + 5_000;
      while (!isStopped(child.pid) && Date.now() < until) await Bun.sleep(10);
      expect(isStopped(child.pid)).toBe(true);
      process.kill(child.pid, "SIGCONT");
      while (isStopped(child.pid) && Date.now() < until + 5_000) await Bun.sleep(10);
      expect(isStopped(child.pid)).toBe(false);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
    expect(isStopped(child.pid)).toBe(false);
  },
);
