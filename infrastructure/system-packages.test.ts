import { describe, expect, test } from "bun:test";
import { aptGet, FOR_TEST, missingPrograms, PROGRAMS } from "./system-packages.ts";

const asRootWithApt = process.getuid?.() === 0 && Bun.which("apt-get") !== null && Bun.which("python3") !== null;

/** Holds dpkg's frontend lock the way apt does (an fcntl write lock) until killed. */
function holdDpkgLock() {
  const script =
    "import fcntl,sys,time\nf=open('/var/lib/dpkg/lock-frontend','w')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('held',flush=True)\ntime.sleep(60)";
  return Bun.spawn(["python3", "-c", script], { stdout: "pipe", stderr: "inherit" });
}

describe("system packages", () => {
  test("programs present on this machine are not reported missing", () => {
    expect(missingPrograms(["java"])).toEqual([]);
    expect(PROGRAMS.chromium.pkg).toBe("chromium");
  });

  test("the template checkers' needs are part of the one package list npm test installs", () => {
    expect(FOR_TEST).toContain("shellcheck");
    expect(FOR_TEST).toContain("pythonVenv");
    expect(PROGRAMS.pythonVenv.pkg).toBe("python3-venv");
    // npm test installed them on this machine, through this very list.
    expect(missingPrograms(["shellcheck", "pythonVenv"])).toEqual([]);
  });

  test.skipIf(!asRootWithApt)("apt-get waits, saying so, while another process holds dpkg's lock", async () => {
    const holder = holdDpkgLock();
    const reader = holder.stdout.getReader();
    await reader.read(); // "held"
    const lines: string[] = [];
    const released = Bun.sleep(2500).then(() => holder.kill());
    // `hostname` is an essential package, always installed: the install is a no-op once it gets the lock.
    await aptGet(["install", "-y", "-qq", "hostname"], { log: (l) => lines.push(l), lockWaitMs: 60_000 });
    await released;
    expect(lines.join("\n")).toMatch(new RegExp(`waiting for apt's lock \\(held by process ${holder.pid}\\)`));
  });

  test.skipIf(!asRootWithApt)("a lock held past the bound fails with a message naming the cause", async () => {
    const holder = holdDpkgLock();
    await holder.stdout.getReader().read();
    try {
      await expect(aptGet(["install", "-y", "-qq", "hostname"], { log: () => {}, lockWaitMs: 1500 })).rejects.toThrow(
        "another package manager held apt's lock for over 2 s",
      );
    } finally {
      holder.kill();
    }
  });

  test.skipIf(!asRootWithApt)("a failure other than the lock is reported at once with apt's own words", async () => {
    await expect(
      aptGet(["install", "-y", "-qq", "pixel-studio-no-such-package"], { log: () => {}, lockWaitMs: 60_000 }),
    ).rejects.toThrow(/Unable to locate package pixel-studio-no-such-package/);
  });
});
