/**
 * The one module importing `standardwebhooks` (the Standard Webhooks reference library), so
 * receivers using any official library verify what we send. Secrets are in `whsec_` form.
 */
import { Webhook } from "standardwebhooks";

/**
 * `webhook-signature` for a delivery: one `v1,<base64>` per secret, space-separated, so during
 * a rotation receivers holding either the new or the previous secret verify it.
 */
export function signDelivery(secrets: readonly string[], id: string, timestamp: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(" ");
}
