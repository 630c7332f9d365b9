/**
 * HS256 JSON Web Tokens through `jose` (the one module importing it), on WebCrypto, so the edge
 * (any runtime) and the workers sign and verify with the same code. Each kind of token has its
 * own key, derived from AUTH_JWT_SECRET (`token-keys.ts`), and its own audience: a token minted
 * for one purpose never verifies for another. Only HS256 is accepted; `exp` and `sub` are required.
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { type TokenPurpose, tokenKey } from "./token-keys.ts";

export type { TokenPurpose } from "./token-keys.ts";

export interface JwtClaims {
  sub: string;
  exp: number;
  iat?: number;
  aud?: string;
  [claim: string]: unknown;
}

/** Signs `claims` with the purpose's key; `aud` is always the purpose. */
export async function signJwt(claims: JwtClaims, secret: string, purpose: TokenPurpose): Promise<string> {
  return new SignJWT({ ...claims, aud: purpose })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(await tokenKey(secret, purpose));
}

export type JwtResult = { ok: true; claims: JwtClaims } | { ok: false; reason: string };

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return `missing ${error.claim}`;
    return error.claim === "aud" ? "wrong audience" : `invalid ${error.claim}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return "unsupported algorithm";
  return "malformed token";
}

/** Verifies signature (purpose's key), `exp` (required), `sub` and `aud`; `nowSeconds` is for tests. */
export async function verifyJwt(
  token: string,
  secret: string,
  purpose: TokenPurpose,
  options: { nowSeconds?: number } = {},
): Promise<JwtResult> {
  try {
    const { payload } = await jwtVerify(token, await tokenKey(secret, purpose), {
      algorithms: ["HS256"],
      audience: purpose,
      requiredClaims: ["exp", "sub"],
      ...(options.nowSeconds === undefined ? {} : { currentDate: new Date(options.nowSeconds * 1000) }),
    });
    if (typeof payload.sub !== "string" || payload.sub === "") return { ok: false, reason: "missing sub" };
    return { ok: true, claims: payload as JwtClaims };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  }
}
