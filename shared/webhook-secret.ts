/**
 * Per-user webhook signing secrets in Standard Webhooks form: `whsec_` + base64 of 24 random
 * bytes. Made by the edge (shown to the user once), read by the delivery worker to sign.
 */
export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** What `newWebhookSecret` makes: the prefix and 32 base64 characters (24 bytes, no padding). */
export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32}$/;
/** How long a rotated-out secret still signs deliveries (beside the new one). */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `${WEBHOOK_SECRET_PREFIX}${btoa(String.fromCharCode(...bytes))}`;
}

/** The stored hash's fields (`HGETALL` as an object). */
export interface StoredWebhookSecrets {
  current?: string;
  createdAt?: string;
  previous?: string;
  /** Unix ms until which `previous` still signs. */
  previousUntil?: string;
}

/** The secrets that sign a delivery made at `nowMs`: the current one, and the previous during its grace. */
export function signingSecrets(stored: StoredWebhookSecrets, nowMs: number): string[] {
  if (!stored.current) return [];
  const previousValid = stored.previous && Number(stored.previousUntil) > nowMs;
  return previousValid && stored.previous ? [stored.current, stored.previous] : [stored.current];
}
