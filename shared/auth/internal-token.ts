import { signJwt, verifyJwt } from "./jwt.ts";

/** Service-to-service calls (edge → worker) carry a minute-long token of this audience. */
export const INTERNAL_AUDIENCE = "internal";

export function mintInternalToken(service: string, secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub: service, aud: INTERNAL_AUDIENCE, iat: now, exp: now + 60 }, secret);
}

export async function verifyInternalToken(token: string, secret: string): Promise<boolean> {
  return (await verifyJwt(token, secret, { audience: INTERNAL_AUDIENCE })).ok;
}
