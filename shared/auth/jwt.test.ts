import { expect, test } from "bun:test";
import { mintEventToken, verifyEventToken } from "./event-token.ts";
import { base64url, signJwt, verifyJwt } from "./jwt.ts";

const secret = "s".repeat(32);
const now = 1_800_000_000;

test("a signed token verifies and yields its claims", async () => {
  const token = await signJwt({ sub: "u1", exp: now + 60 }, secret);
  expect(await verifyJwt(token, secret, { nowSeconds: now })).toEqual({
    ok: true,
    claims: { sub: "u1", exp: now + 60 },
  });
});

test.each([
  ["expired", async () => signJwt({ sub: "u1", exp: now - 1 }, secret), "expired"],
  ["wrong secret", async () => signJwt({ sub: "u1", exp: now + 60 }, "x".repeat(32)), "bad signature"],
  ["no exp", async () => signJwt({ sub: "u1" } as never, secret), "missing exp"],
  ["no sub", async () => signJwt({ exp: now + 60 } as never, secret), "missing sub"],
  ["garbage", async () => "a.b", "malformed token"],
  [
    "alg none",
    async () => {
      const enc = (o: object) => base64url(new TextEncoder().encode(JSON.stringify(o)));
      return `${enc({ alg: "none" })}.${enc({ sub: "u1", exp: now + 60 })}.`;
    },
    "unsupported algorithm",
  ],
])("rejects a token that is %s", async (_name, make, reason) => {
  expect(await verifyJwt(await make(), secret, { nowSeconds: now })).toEqual({ ok: false, reason });
});

test("event tokens are bound to the generation and say when they expire", async () => {
  const issued = Math.floor(Date.now() / 1000);
  const token = await mintEventToken("u1", "gen-a", secret, issued);
  expect(await verifyEventToken(token, "gen-a", secret)).toEqual({ userId: "u1", expiresAt: issued + 15 * 60 });
  expect(await verifyEventToken(token, "gen-b", secret)).toBeNull();
  const apiToken = await signJwt({ sub: "u1", exp: Math.floor(Date.now() / 1000) + 60 }, secret);
  expect(await verifyEventToken(apiToken, "gen-a", secret)).toBeNull();
});
