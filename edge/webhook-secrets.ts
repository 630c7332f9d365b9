import type { WebhookSecretCreated } from "../shared/api-bodies.ts";
import { sha256Hex } from "../shared/digest.ts";
import { redisKeys } from "../shared/redis-keys.ts";
import { ROTATE_WEBHOOK_SECRET } from "../shared/redis-scripts.ts";
import { newWebhookSecret, PREVIOUS_SECRET_GRACE_MS } from "../shared/webhook-secret.ts";
import type { Redis } from "./upstash-clients.ts";

/** The edge's side of per-user webhook secrets: create or rotate (the secret is returned once), and existence. */
export function createWebhookSecrets(redis: Redis, prefix: string) {
  const keys = redisKeys(prefix);
  const keyOf = async (userId: string) => keys.webhookSecret(await sha256Hex(userId));
  return {
    /**
     * A new secret; the one it replaces keeps signing for PREVIOUS_SECRET_GRACE_MS, or stops at
     * once with `revokePrevious` (a leaked secret must not sign another delivery).
     */
    async rotate(userId: string, options: { revokePrevious?: boolean } = {}): Promise<WebhookSecretCreated> {
      const secret = newWebhookSecret();
      const now = Date.now();
      const createdAt = new Date(now).toISOString();
      const previousUntil = options.revokePrevious ? 0 : now + PREVIOUS_SECRET_GRACE_MS;
      const rotated = await redis.eval(
        ROTATE_WEBHOOK_SECRET,
        [await keyOf(userId)],
        [secret, createdAt, String(previousUntil)],
      );
      const graced = rotated === 1 && previousUntil > 0;
      return { secret, createdAt, previousValidUntil: graced ? new Date(previousUntil).toISOString() : null };
    },
    async exists(userId: string): Promise<boolean> {
      return (await redis.hexists(await keyOf(userId), "current")) === 1;
    },
  };
}
export type WebhookSecrets = ReturnType<typeof createWebhookSecrets>;
