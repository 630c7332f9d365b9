import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { createSupervisor, restartDelayMs } from "./supervisor.ts";

const dir = mkdtempSync(join(tmpdir(), "supervisor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Child code that writes `expr` to the file named by OUT in one step: written beside it, then
 * renamed, so a reader polling for the file never sees it created but not yet filled.
 */
const publish = (expr: string) =>
  `await Bun.write(process.env.OUT + ".part", ${expr}); require("node:fs").renameSync(process.env.OUT + ".part", process.env.OUT);`;

/** Runs one child that writes to `out` its working directory and the variables it sees. */
async function seenByChild(out: string, isolatedIn?: string): Promise<Record<string, string | null>> {
  const supervisor = createSupervisor(silentLogger, { stopGraceMs: 5000, isolatedIn });
  const script =
    publish("JSON.stringify({ cwd: process.cwd(), parent: process.env.PARENT_ONLY ?? null })") +
    "await Bun.sleep(60000)";
  supervisor.start({
    name: "probe",
    cmd: [process.execPath, "-e", script],
    env: { PATH: process.env.PATH ?? "", OUT: out },
  });
  try {
    const until = Date.now() + 20_000;
    while (!existsSync(out) && Date.now() < until) await Bun.sleep(50);
    return JSON.parse(readFileSync(out, "utf8")) as Record<string, string | null>;
  } finally {
    await supervisor.stop();
  }
}

test("children inherit our environment; isolated ones run in their folder with exactly their spec's", async () => {
  // As a `.env` of the checkout, which Bun loads into our environment, would set it.
  process.env.PARENT_ONLY = "from-parent";
  try {
    expect(await seenByChild(join(dir, "isolated.json"), dir)).toEqual({ cwd: realpathSync(dir), parent: null });
    expect(await seenByChild(join(dir, "inherited.json"))).toEqual({ cwd: process.cwd(), parent: "from-parent" });
  } finally {
    delete process.env.PARENT_ONLY;
  }
}, 60_000);

test("a crashed child comes back at once the first time, then after a backoff that doubles up to 10 s", () => {
  expect(Array.from({ length: 8 }, (_, i) => restartDelayMs(i))).toEqual([0, 250, 500, 1000, 2000, 4000, 8000, 10_000]);
  expect(restartDelayMs(60)).toBe(10_000);
});

const LIVENESS = new URL("./liveness.ts", import.meta.url).pathname;

/** A child that beats (or not), reports a group member named after its pid, then writes `out`. */
function childScript(beats: boolean): string {
  return (
    (beats ? `const { beatToSupervisor } = await import(${JSON.stringify(LIVENESS)}); beatToSupervisor();` : "") +
    'process.send?.({ type: "kafka-membership", groupId: "g", memberId: "m-" + process.pid });' +
    publish("String(process.pid)") +
    "await Bun.sleep(600000);"
  );
}

async function startedPid(out: string): Promise<number> {
  const until = Date.now() + 20_000;
  while (!existsSync(out) && Date.now() < until) await Bun.sleep(20);
  const pid = Number(readFileSync(out, "utf8"));
  // 0 or less would signal our own process group, not the child.
  if (!(pid > 0)) throw new Error(`no child pid in ${out}`);
  return pid;
}

/**
 * Watches for silence only: the kernel's "stopped" is not consulted, so a child paused with
 * SIGSTOP stands for any hung one (deadlocked, its event loop blocked) that the kernel shows running.
 */
function watchedSupervisor(evicted: string[]) {
  return createSupervisor(silentLogger, {
    stopGraceMs: 5000,
    hangAfterMs: 1000,
    isStopped: () => false,
    evict: async (member) => {
      evicted.push(member.memberId);
    },
  });
}

/**
 * Starts a beating child and one that never beats, SIGSTOPs both, and checks that the supervisor
 * replaced the beating one (evicting its member) and left the other alone.
 */
async function pausedPairHandled(supervisor: ReturnType<typeof createSupervisor>, evicted: string[], tag: string) {
  const out = { beating: join(dir, `${tag}-beating.pid`), silent: join(dir, `${tag}-silent.pid`) };
  supervisor.start({ name: "beating", cmd: [process.execPath, "-e", childScript(true)], env: { OUT: out.beating } });
  supervisor.start({ name: "silent", cmd: [process.execPath, "-e", childScript(false)], env: { OUT: out.silent } });
  try {
    const hung = await startedPid(out.beating);
    const silent = await startedPid(out.silent);
    process.kill(hung, "SIGSTOP");
    process.kill(silent, "SIGSTOP");
    const until = Date.now() + 20_000;
    while (supervisor.pids().beating === hung && Date.now() < until) await Bun.sleep(50);
    expect(supervisor.pids().beating).not.toBe(hung);
    expect(evicted).toEqual([`m-${hung}`]);
    // Stopped as long as the other, but it never beat: nothing says it should have.
    expect(supervisor.pids().silent).toBe(silent);
    process.kill(silent, "SIGCONT");
  } finally {
    await supervisor.stop();
  }
}

test("a child that stops beating is killed, its members evicted, and replaced; one that never beat is left alone", async () => {
  const evicted: string[] = [];
  await pausedPairHandled(watchedSupervisor(evicted), evicted, "silence");
}, 60_000);

test.skipIf(process.platform !== "linux")(
  "a beating child the kernel shows stopped is killed at once, long before its silence would count",
  async () => {
    const evicted: string[] = [];
    const supervisor = createSupervisor(silentLogger, {
      stopGraceMs: 5000,
      // Far past the test's own timeout: only the stopped state can get it killed in time.
      hangAfterMs: 120_000,
      evict: async (member) => {
        evicted.push(member.memberId);
      },
    });
    await pausedPairHandled(supervisor, evicted, "stopped");
  },
  60_000,
);

test("a child seen stopped at one check but not the next is spared: only two in a row count", async () => {
  const out = join(dir, "flicker.pid");
  let target = 0;
  let sightings = 0;
  const supervisor = createSupervisor(silentLogger, {
    stopGraceMs: 5000,
    hangAfterMs: 120_000,
    // Its child (once known) "stopped" at every other check, never two in a row.
    isStopped: (pid) => pid === target && sightings++ % 2 === 0,
  });
  supervisor.start({ name: "flicker", cmd: [process.execPath, "-e", childScript(true)], env: { OUT: out } });
  try {
    target = await startedPid(out);
    const until = Date.now() + 20_000;
    while (sightings < 8 && Date.now() < until) await Bun.sleep(50);
    expect(sightings).toBeGreaterThanOrEqual(8);
    expect(supervisor.pids().flicker).toBe(target);
  } finally {
    await supervisor.stop();
  }
}, 60_000);

test("a supervisor that was itself stalled does not kill children for the beats it could not read", async () => {
  const evicted: string[] = [];
  const supervisor = watchedSupervisor(evicted);
  const out = join(dir, "patient.pid");
  supervisor.start({ name: "patient", cmd: [process.execPath, "-e", childScript(true)], env: { OUT: out } });
  try {
    const pid = await startedPid(out);
    // As a supervisor paused by a debugger or starved of CPU: its event loop stops, the child's does
    // not. The beats that waited unread are read before the silence is judged.
    Bun.sleepSync(3000);
    await Bun.sleep(2000);
    expect(supervisor.pids().patient).toBe(pid);
    expect(evicted).toEqual([]);
  } finally {
    await supervisor.stop();
  }
}, 60_000);

test("once a dead child's member is evicted, every running child is told its group changed", async () => {
  const evicted: string[] = [];
  const supervisor = watchedSupervisor(evicted);
  const out = { dies: join(dir, "dies.pid"), ready: join(dir, "hears.ready"), hears: join(dir, "hears.json") };
  // Says when it listens, then writes the first message it is sent.
  const listener =
    `process.on("message", async (m) => { ${publish("JSON.stringify(m)")} });` +
    `await Bun.write(process.env.READY, String(process.pid)); await Bun.sleep(600000);`;
  supervisor.start({ name: "dies", cmd: [process.execPath, "-e", childScript(false)], env: { OUT: out.dies } });
  supervisor.start({
    name: "hears",
    cmd: [process.execPath, "-e", listener],
    env: { OUT: out.hears, READY: out.ready },
  });
  try {
    const dead = await startedPid(out.dies);
    await startedPid(out.ready);
    process.kill(dead, "SIGKILL");
    const until = Date.now() + 20_000;
    while (!existsSync(out.hears) && Date.now() < until) await Bun.sleep(50);
    expect(JSON.parse(readFileSync(out.hears, "utf8"))).toEqual({ type: "kafka-member-removed", groupId: "g" });
    expect(evicted).toEqual([`m-${dead}`]);
  } finally {
    await supervisor.stop();
  }
}, 60_000);

test("a child found silent whose beat is already waiting to be read is spared", async () => {
  const evicted: string[] = [];
  const supervisor = watchedSupervisor(evicted);
  const out = join(dir, "late.pid");
  // One beat, then one beat a second late (as a loop blocked that long would send it), then every 100 ms.
  const late =
    'process.send({ type: "alive" });' +
    publish("String(process.pid)") +
    'await Bun.sleep(1050); setInterval(() => process.send({ type: "alive" }), 100); process.send({ type: "alive" });' +
    "await Bun.sleep(600000);";
  supervisor.start({ name: "late", cmd: [process.execPath, "-e", late], env: { OUT: out } });
  try {
    const pid = await startedPid(out);
    // Our own loop is busy while that late beat arrives: when it frees, the silence has passed the
    // 1 s limit, but the beat ending it is already sent, and it is read before the overdue check
    // runs. Too short (300 ms) for the check to see that it came late itself; a beat sent after
    // the stall (1.4 s) gets the child killed here.
    await Bun.sleep(850);
    Bun.sleepSync(300);
    await Bun.sleep(1000);
    expect(supervisor.pids().late).toBe(pid);
    expect(evicted).toEqual([]);
  } finally {
    await supervisor.stop();
  }
}, 60_000);
