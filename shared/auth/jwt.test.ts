import { expect, test } from "bun:test";
import { mintEventToken, verifyEventToken } from "./event-token.ts";
import { mintInternalToken, verifyInternalToken } from "./internal-token.ts";
import { signJwt, type TokenPurpose, verifyJwt } from "./jwt.ts";

const secret = "s".repeat(32);
const now = 1_800_000_000;
const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** A token signed by hand with HMAC-SHA256 over `key` (what the hand-rolled signer used to do). */
async function handSigned(claims: object, key: Uint8Array<ArrayBuffer>, header: object = { alg: "HS256", typ: "JWT" }) {
  const body = `${enc(header)}.${enc(claims)}`;
  const hmac = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(body)));
  return `${body}.${Buffer.from(mac).toString("base64url")}`;
}

test("a signed token verifies for its purpose and yields its claims, audience set to the purpose", async () => {
  const token = await signJwt({ sub: "u1", exp: now + 60 }, secret, "api");
  expect(await verifyJwt(token, secret, "api", { nowSeconds: now })).toEqual({
    ok: true,
    claims: { sub: "u1", exp: now + 60, aud: "api" },
  });
});

test("each purpose has its own key: a token of one kind never verifies as another", async () => {
  const purposes: TokenPurpose[] = ["api", "session", "generation-events", "internal", "ops"];
  for (const made of purposes) {
    const token = await signJwt({ sub: "u1", exp: now + 60 }, secret, made);
    for (const checked of purposes) {
      const result = await verifyJwt(token, secret, checked, { nowSeconds: now });
      expect(result.ok).toBe(made === checked);
      if (made !== checked) expect(result).toEqual({ ok: false, reason: "bad signature" });
    }
  }
});

test("the raw AUTH_JWT_SECRET is not a signing key: a token signed with it directly is refused", async () => {
  const token = await handSigned({ sub: "u1", aud: "api", exp: now + 60 }, new TextEncoder().encode(secret));
  expect(await verifyJwt(token, secret, "api", { nowSeconds: now })).toEqual({ ok: false, reason: "bad signature" });
});

test.each([
  ["expired", async () => signJwt({ sub: "u1", exp: now - 1 }, secret, "api"), "expired"],
  ["wrong secret", async () => signJwt({ sub: "u1", exp: now + 60 }, "x".repeat(32), "api"), "bad signature"],
  ["without exp", async () => signJwt({ sub: "u1" } as never, secret, "api"), "missing exp"],
  ["without sub", async () => signJwt({ exp: now + 60 } as never, secret, "api"), "missing sub"],
  ["garbage", async () => "a.b", "malformed token"],
  [
    "alg none",
    async () => `${enc({ alg: "none" })}.${enc({ sub: "u1", aud: "api", exp: now + 60 })}.`,
    "unsupported algorithm",
  ],
  [
    "alg HS512",
    async () => handSigned({ sub: "u1", aud: "api", exp: now + 60 }, new Uint8Array(32), { alg: "HS512" }),
    "unsupported algorithm",
  ],
])("refuses a token %s", async (_name, make, reason) => {
  expect(await verifyJwt(await make(), secret, "api", { nowSeconds: now })).toEqual({ ok: false, reason });
});

test("event tokens are bound to the generation and to their own key, and say when they expire", async () => {
  const issued = Math.floor(Date.now() / 1000);
  const token = await mintEventToken("u1", "gen-a", secret, issued);
  expect(await verifyEventToken(token, "gen-a", secret)).toEqual({ userId: "u1", expiresAt: issued + 15 * 60 });
  expect(await verifyEventToken(token, "gen-b", secret)).toBeNull();
  const apiToken = await signJwt({ sub: "u1", gen: "gen-a", exp: Math.floor(Date.now() / 1000) + 60 }, secret, "api");
  expect(await verifyEventToken(apiToken, "gen-a", secret)).toBeNull();
});

test("internal tokens verify only as internal tokens", async () => {
  expect(await verifyInternalToken(await mintInternalToken("edge", secret), secret)).toBe(true);
  const session = await signJwt({ sub: "edge", exp: Math.floor(Date.now() / 1000) + 60 }, secret, "session");
  expect(await verifyInternalToken(session, secret)).toBe(false);
});
