import { expect, test } from "bun:test";
import { verifyJwt } from "../shared/auth/jwt.ts";
import { verifyOpsToken } from "../shared/auth/ops-token.ts";
import { runScript } from "../worker/testing/run-script.ts";

const run = async (args: string[], env: Record<string, string>) => {
  const { stdout, stderr, code } = await runScript("scripts/mint-token.ts", args, env);
  return { stdout: stdout.trim(), stderr: stderr.trim(), code };
};

test("mints a token the API accepts for that user", async () => {
  const secret = "k".repeat(40);
  const result = await run(["alice", "60"], { AUTH_JWT_SECRET: secret });
  expect(result.code).toBe(0);
  const verified = await verifyJwt(result.stdout, secret, "api");
  expect(verified.ok && verified.claims.sub).toBe("alice");
  expect(verified.ok && verified.claims.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(60);
});

test("bad input is answered with one clear line", async () => {
  expect(await run([], {})).toMatchObject({
    code: 2,
    stdout: "",
    stderr: "usage: npm run token -- [--admin|--viewer] <user-id> [ttl-seconds]",
  });
  expect(await run(["alice", "soon"], {})).toMatchObject({ code: 2 });
  const missing = await run(["alice"], {});
  expect(missing.code).toBe(1);
  expect(missing.stderr).toStartWith("Invalid configuration: AUTH_JWT_SECRET is required");
});

test("--admin and --viewer mint console tokens with that role, which are not API tokens", async () => {
  const secret = "k".repeat(40);
  const admin = await run(["--admin", "ops"], { AUTH_JWT_SECRET: secret });
  expect(admin.code).toBe(0);
  expect(await verifyOpsToken(admin.stdout, secret)).toMatchObject({
    ok: true,
    identity: { operator: "ops", role: "admin" },
  });
  const viewer = await run(["--viewer", "vera", "120"], { AUTH_JWT_SECRET: secret });
  expect(await verifyOpsToken(viewer.stdout, secret)).toMatchObject({ ok: true, identity: { role: "viewer" } });
  const claims = await verifyJwt(admin.stdout, secret, "ops");
  expect(claims.ok && claims.claims.aud).toBe("ops");
  const api = await run(["alice"], { AUTH_JWT_SECRET: secret });
  // An API token is signed with another derived key: it fails on its signature already.
  expect(await verifyOpsToken(api.stdout, secret)).toEqual({ ok: false, reason: "bad signature" });
  expect(await run(["--admin"], { AUTH_JWT_SECRET: secret })).toMatchObject({ code: 2 });
});
