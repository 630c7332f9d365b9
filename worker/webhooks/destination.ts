/**
 * Where a webhook may go, decided at delivery time and kept to: the URL is checked
 * (`checkWebhookUrl`), the host name resolved once, EVERY address it resolves to must be public
 * unicast (`isPublicUnicast`), and the connection is then made to the checked address itself,
 * with the URL's host name for `Host` and TLS SNI/certificate checks. A resolver that answers
 * differently a moment later (DNS rebinding) is never asked again for this attempt.
 */

import { lookup } from "node:dns/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { PipelineError } from "../../shared/errors.ts";
import { isIpLiteral, isPublicUnicast } from "../../shared/net/ip-address.ts";
import { checkWebhookUrl, type WebhookPolicy } from "../../shared/net/webhook-url.ts";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Resolves a host name to all its addresses (the system resolver by default). */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolve: Resolve = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export interface Destination {
  url: URL;
  /** The checked address the connection goes to. */
  address: string;
  family: 4 | 6;
}

/** Code of a destination that will never be allowed: not retried. */
export const REFUSED = "webhook_destination_refused";
const refused = (reason: string) => new PipelineError(REFUSED, reason, { retryable: false });

export async function resolveDestination(
  input: string,
  policy: WebhookPolicy,
  resolve: Resolve,
  timeoutMs = 10_000,
): Promise<Destination> {
  const checked = checkWebhookUrl(input, policy);
  if (!checked.ok) throw refused(`webhook URL ${checked.reason}`);
  const url = checked.url;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIpLiteral(host)) return { url, address: host, family: host.includes(":") ? 6 : 4 };
  let addresses: ResolvedAddress[];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // getaddrinfo has no deadline of its own.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    addresses = await Promise.race([resolve(host), late]);
  } catch (error) {
    throw new PipelineError("webhook_dns_failed", `could not resolve ${host}: ${(error as Error).message}`, {
      retryable: true,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
  if (addresses.length === 0)
    throw new PipelineError("webhook_dns_failed", `${host} has no address`, { retryable: true });
  if (!policy.allowPrivate) {
    const bad = addresses.find((a) => !isPublicUnicast(a.address));
    if (bad) throw refused(`${host} resolves to ${bad.address}, which is not a public address`);
  }
  const [first] = addresses as [ResolvedAddress];
  return { url, address: first.address, family: first.family };
}

export interface PinnedPost {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), for tests with their own CA. */
  ca?: string;
}

/** A `lookup` that answers every name with the one checked address. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

/** POSTs to the destination's checked address; resolves with the status. Redirects are not followed. */
export function postPinned(destination: Destination, post: PinnedPost): Promise<number> {
  const { url, address, family } = destination;
  const https = url.protocol === "https:";
  const send = https ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const request = send(
      {
        protocol: url.protocol,
        host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port || (https ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: { ...post.headers, "content-length": String(Buffer.byteLength(post.body)) },
        // The pinned address, whatever the name would resolve to now; a fresh connection each time.
        lookup: pinnedLookup(address, family),
        agent: false,
        signal: AbortSignal.timeout(post.timeoutMs),
        ...(https && post.ca ? { ca: post.ca } : {}),
      },
      (response) => {
        // The answer's body is not needed; drain it so the socket can close.
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on("error", reject);
    request.end(post.body);
  });
}
