import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../infrastructure/paths.ts";
import { verifyJwt } from "../shared/auth/jwt.ts";

const run = async (args: string[], env: Record<string, string>) => {
  // A bare working directory, so no .env is loaded into the command.
  const proc = Bun.spawn([process.execPath, join(ROOT, "scripts/mint-token.ts"), ...args], {
    cwd: mkdtempSync(join(tmpdir(), "token-")),
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout: stdout.trim(), stderr: stderr.trim(), code };
};

test("mints a token the API accepts for that user", async () => {
  const secret = "k".repeat(40);
  const result = await run(["alice", "60"], { AUTH_JWT_SECRET: secret });
  expect(result.code).toBe(0);
  const verified = await verifyJwt(result.stdout, secret);
  expect(verified.ok && verified.claims.sub).toBe("alice");
  expect(verified.ok && verified.claims.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(60);
});

test("bad input is answered with one clear line", async () => {
  expect(await run([], {})).toMatchObject({
    code: 2,
    stdout: "",
    stderr: "usage: npm run token -- <user-id> [ttl-seconds]",
  });
  expect(await run(["alice", "soon"], {})).toMatchObject({ code: 2 });
  const missing = await run(["alice"], {});
  expect(missing.code).toBe(1);
  expect(missing.stderr).toStartWith("Invalid configuration: AUTH_JWT_SECRET is required");
});
