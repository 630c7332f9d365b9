import type { Context } from "hono";
import { trustedClientBucket } from "../shared/net/ip-address.ts";

/** The bucket used when neither a trusted header nor the runtime gives an address. */
export const UNKNOWN_CLIENT = "unknown";

/**
 * The client's address bucket for per-IP limits (`trustedClientBucket`: IPv4, or an IPv6 /48).
 * `trustedHeader` (TRUSTED_CLIENT_IP_HEADER) is read only when configured, because anyone can
 * send it: only a proxy that overwrites it (Cloudflare's CF-Connecting-IP) makes it true.
 * Otherwise the peer address comes from the runtime: Bun's server (`requestIP`) is the `env`
 * Hono is given; entry points of other runtimes pass an object with the same method.
 */
export function clientAddress(c: Context, trustedHeader: string): string {
  const env = c.env as { requestIP?: (request: Request) => { address: string } | null } | undefined;
  const peer = typeof env?.requestIP === "function" ? env.requestIP(c.req.raw)?.address : undefined;
  const header = trustedHeader ? c.req.header(trustedHeader) : undefined;
  return trustedClientBucket(header, peer) ?? UNKNOWN_CLIENT;
}
