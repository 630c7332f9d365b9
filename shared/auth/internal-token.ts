import { signJwt, verifyJwt } from "./jwt.ts";

/** Service-to-service calls (edge → worker) carry a minute-long token with the internal key. */
export function mintInternalToken(service: string, secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub: service, iat: now, exp: now + 60 }, secret, "internal");
}

export async function verifyInternalToken(token: string, secret: string): Promise<boolean> {
  return (await verifyJwt(token, secret, "internal")).ok;
}
