/**
 * HS256 JSON Web Tokens on WebCrypto, so the edge (any runtime) and the workers verify the
 * same tokens with the same code. Only HS256 is accepted: `alg` is never taken from the token.
 */
export interface JwtClaims {
  sub: string;
  exp: number;
  iat?: number;
  aud?: string;
  [claim: string]: unknown;
}

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

const HEADER = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

export async function signJwt(claims: JwtClaims, secret: string): Promise<string> {
  const body = `${HEADER}.${base64url(encoder.encode(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(body));
  return `${body}.${base64url(new Uint8Array(signature))}`;
}

export type JwtResult = { ok: true; claims: JwtClaims } | { ok: false; reason: string };

/** Verifies signature, `exp` (required) and, when given, `aud`; `nowSeconds` is for tests. */
export async function verifyJwt(
  token: string,
  secret: string,
  options: { audience?: string; nowSeconds?: number } = {},
): Promise<JwtResult> {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed token" };
  const [header, payload, signature] = parts as [string, string, string];
  let claims: JwtClaims;
  try {
    const h = JSON.parse(new TextDecoder().decode(fromBase64url(header)));
    if (h.alg !== "HS256") return { ok: false, reason: "unsupported algorithm" };
    const valid = await crypto.subtle.verify(
      "HMAC",
      await hmacKey(secret),
      fromBase64url(signature),
      encoder.encode(`${header}.${payload}`),
    );
    if (!valid) return { ok: false, reason: "bad signature" };
    claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload)));
  } catch {
    return { ok: false, reason: "malformed token" };
  }
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (typeof claims.sub !== "string" || claims.sub === "") return { ok: false, reason: "missing sub" };
  if (typeof claims.exp !== "number") return { ok: false, reason: "missing exp" };
  if (claims.exp <= now) return { ok: false, reason: "expired" };
  if (options.audience !== undefined && claims.aud !== options.audience) return { ok: false, reason: "wrong audience" };
  return { ok: true, claims };
}
