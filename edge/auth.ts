import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { type JwtClaims, signJwt, verifyJwt } from "../shared/auth/jwt.ts";
import { ApiError } from "./api-error.ts";

/** An anonymous session lasts a week, renewed (same user) when a visit finds it past half-life. */
export const SESSION_TTL_SECONDS = 7 * 24 * 60 * 60;

export type AuthEnv = {
  Variables: {
    userId: string;
    authenticatedBy: "token" | "cookie";
    /** The client address bucket for per-IP limits (client-ip.ts). */
    clientIp: string;
  };
};

export interface SessionCookie {
  name: string;
  secure: boolean;
}

/**
 * The session cookie is `__Host-` prefixed and `Secure` when the studio is served over https
 * (STUDIO_ORIGIN): behind a TLS-terminating proxy the edge itself sees plain http, so the
 * request URL cannot tell. A plain-http origin (local development) gets an unprefixed,
 * non-Secure cookie, because browsers refuse `__Host-` cookies without `Secure`.
 */
export function sessionCookie(studioOrigin: string): SessionCookie {
  return new URL(studioOrigin).protocol === "https:"
    ? { name: "__Host-ps_session", secure: true }
    : { name: "ps_session", secure: false };
}

/** The caller's user id from `Authorization: Bearer <JWT>` or the signed session cookie, else 401. */
export function authenticate(secret: string, cookie: SessionCookie): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw new ApiError("unauthorized", "Authorization must be 'Bearer <token>'");
      const result = await verifyJwt(match[1], secret, "api");
      if (!result.ok) throw new ApiError("unauthorized", `Invalid token: ${result.reason}`);
      c.set("userId", result.claims.sub);
      c.set("authenticatedBy", "token");
      return next();
    }
    const session = await readSession(c, secret, cookie);
    if (session) {
      c.set("userId", session.sub);
      c.set("authenticatedBy", "cookie");
      return next();
    }
    throw new ApiError("unauthorized", "Send 'Authorization: Bearer <token>' or open the studio page for a session");
  };
}

/** The valid session in the request's cookie, or null. */
export async function readSession(c: Context, secret: string, cookie: SessionCookie): Promise<JwtClaims | null> {
  const value = getCookie(c, cookie.name);
  if (!value) return null;
  const result = await verifyJwt(value, secret, "session");
  return result.ok ? result.claims : null;
}

/** Sets a fresh session cookie for `userId` (a new anonymous user when omitted); returns the user id. */
export async function issueSession(
  c: Context,
  secret: string,
  cookie: SessionCookie,
  userId = `anon-${crypto.randomUUID()}`,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt({ sub: userId, iat: now, exp: now + SESSION_TTL_SECONDS }, secret, "session");
  setCookie(c, cookie.name, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: cookie.secure,
    path: "/",
    maxAge: SESSION_TTL_SECONDS,
  });
  return userId;
}

export const sessionNeedsRenewal = (claims: JwtClaims, nowSeconds = Math.floor(Date.now() / 1000)): boolean =>
  claims.exp - nowSeconds < SESSION_TTL_SECONDS / 2;

export function mintApiToken(userId: string, secret: string, ttlSeconds = 24 * 60 * 60): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub: userId, iat: now, exp: now + ttlSeconds }, secret, "api");
}
