import { isIpLiteral, isPublicUnicast } from "./ip-address.ts";

export interface WebhookPolicy {
  /** ALLOW_PRIVATE_WEBHOOKS: loopback/private addresses, any port, http too (local development). */
  allowPrivate: boolean;
  /** WEBHOOK_ALLOW_HTTP: plain http on port 80 besides https on 443. */
  allowHttp: boolean;
}

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * What can be told from the URL alone, at submit time (a clear 400) and again at delivery: the
 * scheme, the port (443, or 80 for allowed http), no credentials, and a host that is neither a
 * non-public IP literal nor a name that can only be local. Names are resolved and their
 * addresses checked at delivery (worker/webhooks/destination.ts); this alone proves nothing.
 */
export function checkWebhookUrl(input: string, policy: WebhookPolicy): WebhookUrlCheck {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, reason: "must be an absolute URL" };
  }
  const httpAllowed = policy.allowHttp || policy.allowPrivate;
  if (url.protocol !== "https:" && !(httpAllowed && url.protocol === "http:"))
    return { ok: false, reason: httpAllowed ? "must use https: or http:" : "must use https:" };
  if (url.username || url.password) return { ok: false, reason: "must not carry credentials" };
  if (policy.allowPrivate) return { ok: true, url };
  // WHATWG URL drops a default port, so any port left is a non-default one.
  if (url.port !== "")
    return { ok: false, reason: `must use the default port (${url.protocol === "https:" ? 443 : 80})` };
  const host = url.hostname;
  if (isIpLiteral(host)) {
    if (!isPublicUnicast(host))
      return { ok: false, reason: "must not point at a loopback, private or reserved address" };
    return { ok: true, url };
  }
  const name = host.replace(/\.+$/, "").toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost") || !name.includes("."))
    return { ok: false, reason: "must name a public host" };
  return { ok: true, url };
}
