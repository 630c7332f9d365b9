/**
 * IP address rules, through `ipaddr.js` (the one module importing it): which addresses are
 * public unicast (the only ones a webhook may reach), and how client addresses are grouped for
 * rate limits. Pure JavaScript, so the edge bundles it on every runtime.
 */
import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** An IPv4 or IPv6 literal (brackets allowed) as one address; IPv4-mapped IPv6 becomes IPv4. Else null. */
function parse(text: string): Address | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  // Only canonical forms: `ipaddr.isValid` also takes "0x7f.1"-style IPv4, which no resolver returns.
  if (!ipaddr.IPv4.isValidFourPartDecimal(bare) && !ipaddr.IPv6.isValid(bare)) return null;
  try {
    return ipaddr.process(bare);
  } catch {
    return null;
  }
}

export const isIpLiteral = (text: string): boolean => parse(text) !== null;

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");

/**
 * True only for addresses on the public internet: not loopback, private, link-local, CGNAT,
 * unspecified, multicast, reserved, documentation, or IPv6 transition ranges (NAT64, 6to4,
 * Teredo) that can reach an IPv4 address inside. IPv4-mapped IPv6 is judged as its IPv4.
 */
export function isPublicUnicast(text: string): boolean {
  const address = parse(text);
  if (!address) return false;
  if (address.range() !== "unicast") return false;
  // IPv6 outside the allocated global unicast block (e.g. IPv4-compatible ::7f00:1) is refused too.
  return address.kind() === "ipv4" || (address as ipaddr.IPv6).match(GLOBAL_UNICAST_V6);
}

/**
 * How many leading bits of an IPv6 client address name its bucket. A residential or cloud
 * customer is routinely given a whole /48, so a /64 bucket would hand one client 65 536 fresh
 * per-address limits (and single addresses billions). The edge's limits and the live servers'
 * connection caps bucket alike.
 */
export const V6_BUCKET_PREFIX_BITS = 48;

/**
 * The rate-limit bucket of a client address: an IPv4 address itself, an IPv6 address by its
 * first V6_BUCKET_PREFIX_BITS bits. Null when `text` is not an address.
 */
function clientBucket(text: string): string | null {
  const address = parse(text.trim());
  if (!address) return null;
  if (address.kind() === "ipv4") return address.toString();
  const bytes = (address as ipaddr.IPv6).toByteArray();
  for (let bit = V6_BUCKET_PREFIX_BITS; bit < 128; bit++)
    bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) & ~(0x80 >> (bit & 7));
  return `${ipaddr.fromByteArray(bytes).toString()}/${V6_BUCKET_PREFIX_BITS}`;
}

/**
 * The client's address bucket, given the value of a configured trusted header (a proxy that
 * overwrites it puts the client there) and the peer address. The header is honoured only when
 * the deployment configures it (anyone can send it); for a list such as X-Forwarded-For the last
 * entry, the one the nearest proxy appended, counts. Null when neither gives an address.
 */
export function trustedClientBucket(headerValue: string | undefined, peer: string | undefined): string | null {
  const fromHeader = headerValue?.split(",").at(-1);
  return (fromHeader && clientBucket(fromHeader)) || (peer ? clientBucket(peer) : null);
}
