import { base64url } from "./jwt.ts";

/**
 * Standard Webhooks signatures (as Replicate and Svix send them): `webhook-signature` is
 * `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`. Receivers verify with
 * the same secret and reject timestamps far from now.
 */
const encoder = new TextEncoder();

async function hmac(secret: string, content: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(content)));
  return btoa(String.fromCharCode(...mac));
}

export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  return `v1,${await hmac(secret, `${id}.${timestamp}.${body}`)}`;
}

export async function verifyWebhook(
  secret: string,
  headers: { id: string | null; timestamp: string | null; signature: string | null },
  body: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): Promise<boolean> {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = await signWebhook(secret, id, Number(timestamp), body);
  return signature.split(" ").some((candidate) => candidate === expected);
}

/** A delivery id stable across retries of one event, so receivers can drop duplicates. */
export const webhookDeliveryId = (generationId: string, status: string): string =>
  `msg_${base64url(encoder.encode(`${generationId}:${status}`))}`;
