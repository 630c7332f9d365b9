/**
 * Tokens of the operations console: a JWT with audience `ops` and a `role` claim. They are not
 * API tokens (the API refuses the audience), and API tokens do not open the console.
 */
import { signJwt, verifyJwt } from "./jwt.ts";

export const OPS_ROLES = ["admin", "viewer"] as const;
export type OpsRole = (typeof OPS_ROLES)[number];
const AUDIENCE = "ops";

export async function mintOpsToken(operator: string, role: OpsRole, secret: string, ttlSeconds = 12 * 60 * 60) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub: operator, aud: AUDIENCE, role, iat: now, exp: now + ttlSeconds }, secret);
}

export type OpsIdentity = { operator: string; role: OpsRole; exp: number };

export async function verifyOpsToken(
  token: string,
  secret: string,
): Promise<{ ok: true; identity: OpsIdentity } | { ok: false; reason: string }> {
  const result = await verifyJwt(token, secret, { audience: AUDIENCE });
  if (!result.ok) return result;
  const role = result.claims.role;
  if (!OPS_ROLES.includes(role as OpsRole)) return { ok: false, reason: "no operations role" };
  return { ok: true, identity: { operator: result.claims.sub, role: role as OpsRole, exp: result.claims.exp } };
}
