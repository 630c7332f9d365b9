import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { signJwt, verifyJwt } from "../shared/auth/jwt.ts";
import { ApiError } from "./api-error.ts";

export const SESSION_COOKIE = "ps_session";
const SESSION_AUDIENCE = "session";
const SESSION_TTL_SECONDS = 365 * 24 * 60 * 60;
/** Audiences an API bearer token may carry; event and session tokens are not API tokens. */
const API_AUDIENCES = new Set([undefined, "api"]);

export type AuthEnv = { Variables: { userId: string } };

/** The caller's user id from `Authorization: Bearer <JWT>` or the signed session cookie, else 401. */
export function authenticate(secret: string): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw new ApiError("unauthorized", "Authorization must be 'Bearer <token>'");
      const result = await verifyJwt(match[1], secret);
      if (!result.ok) throw new ApiError("unauthorized", `Invalid token: ${result.reason}`);
      if (!API_AUDIENCES.has(result.claims.aud as string | undefined))
        throw new ApiError("unauthorized", "Invalid token: not an API token");
      c.set("userId", result.claims.sub);
      return next();
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) {
      const result = await verifyJwt(cookie, secret, { audience: SESSION_AUDIENCE });
      if (result.ok) {
        c.set("userId", result.claims.sub);
        return next();
      }
    }
    throw new ApiError("unauthorized", "Send 'Authorization: Bearer <token>' or open the studio page for a session");
  };
}

/** Gives a browser without a valid session an anonymous user, in a signed HttpOnly cookie. */
export async function ensureSession(c: Context, secret: string): Promise<string> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie) {
    const result = await verifyJwt(cookie, secret, { audience: SESSION_AUDIENCE });
    if (result.ok) return result.claims.sub;
  }
  const userId = `anon-${crypto.randomUUID()}`;
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt({ sub: userId, aud: SESSION_AUDIENCE, iat: now, exp: now + SESSION_TTL_SECONDS }, secret);
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: new URL(c.req.url).protocol === "https:",
    path: "/",
    maxAge: SESSION_TTL_SECONDS,
  });
  return userId;
}

export async function mintApiToken(userId: string, secret: string, ttlSeconds = 24 * 60 * 60): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub: userId, aud: "api", iat: now, exp: now + ttlSeconds }, secret);
}
