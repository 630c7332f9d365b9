/**
 * Tokens of the operations console: a JWT with the console's own key (derived from
 * AUTH_JWT_SECRET, `token-keys.ts`), audience `ops` and a `role` claim. They are not API tokens
 * (the API refuses the key and the audience), and API tokens do not open the console.
 */
import { signJwt, verifyJwt } from "./jwt.ts";

export const OPS_ROLES = ["admin", "viewer"] as const;
export type OpsRole = (typeof OPS_ROLES)[number];

export async function mintOpsToken(operator: string, role: OpsRole, secret: string, ttlSeconds = 12 * 60 * 60) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub: operator, role, iat: now, exp: now + ttlSeconds }, secret, "ops");
}

export type OpsIdentity = { operator: string; role: OpsRole; exp: number };

export async function verifyOpsToken(
  token: string,
  secret: string,
): Promise<{ ok: true; identity: OpsIdentity } | { ok: false; reason: string }> {
  const result = await verifyJwt(token, secret, "ops");
  if (!result.ok) return result;
  const role = result.claims.role;
  if (!OPS_ROLES.includes(role as OpsRole)) return { ok: false, reason: "no operations role" };
  return { ok: true, identity: { operator: result.claims.sub, role: role as OpsRole, exp: result.claims.exp } };
}
