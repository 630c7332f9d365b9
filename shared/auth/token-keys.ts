/**
 * One key per kind of token, derived with HKDF-SHA-256 from AUTH_JWT_SECRET: an API token, a
 * session cookie, an event token, an internal service token and an operations-console token
 * are each signed with a different key, so one kind can never be replayed as another even if an audience check were
 * forgotten, and a leak of one derived key reveals neither the others nor the secret.
 */
export type TokenPurpose = "api" | "session" | "generation-events" | "internal" | "ops";

const encoder = new TextEncoder();
/** Fixed, public salt: HKDF's extract step only needs it to be constant per application. */
const SALT = encoder.encode("pixel-studio/token-keys/v1");
const cache = new Map<string, Promise<CryptoKey>>();

export function tokenKey(secret: string, purpose: TokenPurpose): Promise<CryptoKey> {
  const id = `${purpose}\u0000${secret}`;
  let key = cache.get(id);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"])
      .then((base) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: SALT, info: encoder.encode(`jwt:${purpose}`) },
          base,
          { name: "HMAC", hash: "SHA-256", length: 256 },
          false,
          ["sign", "verify"],
        ),
      );
    cache.set(id, key);
  }
  return key;
}
