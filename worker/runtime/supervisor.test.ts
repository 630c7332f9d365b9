import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { createSupervisor } from "./supervisor.ts";

const dir = mkdtempSync(join(tmpdir(), "supervisor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one child that writes to `out` its working directory and the variables it sees. */
async function seenByChild(out: string, isolatedIn?: string): Promise<Record<string, string | null>> {
  const supervisor = createSupervisor(silentLogger, { stopGraceMs: 5000, isolatedIn });
  const script =
    "await Bun.write(process.env.OUT, JSON.stringify({ cwd: process.cwd(), parent: process.env.PARENT_ONLY ?? null }));" +
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
