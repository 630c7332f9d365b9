import { signJwt, verifyJwt } from "./jwt.ts";

/** The token in `links.events`: bound to one user, one generation and a short expiry. */
export const EVENT_TOKEN_TTL_SECONDS = 15 * 60;

export function mintEventToken(
  userId: string,
  generationId: string,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
) {
  return signJwt(
    {
      sub: userId,
      gen: generationId,
      iat: nowSeconds,
      exp: nowSeconds + EVENT_TOKEN_TTL_SECONDS,
    },
    secret,
    "generation-events",
  );
}

/**
 * The user the token was issued to and when it expires (Unix seconds; a live connection ends
 * then), or null when it is bad, expired or for another generation.
 */
export async function verifyEventToken(
  token: string,
  generationId: string,
  secret: string,
): Promise<{ userId: string; expiresAt: number } | null> {
  const result = await verifyJwt(token, secret, "generation-events");
  if (!result.ok || result.claims.gen !== generationId) return null;
  return { userId: result.claims.sub, expiresAt: result.claims.exp };
}
