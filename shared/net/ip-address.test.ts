import { expect, test } from "bun:test";
import { trustedClientBucket } from "./ip-address.ts";

const PEER = "10.0.0.7";

test("a client's bucket: IPv4 itself, IPv6 by its /48, IPv4-mapped IPv6 as its IPv4", () => {
  expect(trustedClientBucket("198.51.100.4", PEER)).toBe("198.51.100.4");
  expect(trustedClientBucket("2001:db8:5:ffff::1", PEER)).toBe("2001:db8:5::/48");
  expect(trustedClientBucket("2001:db8:5:1::9", PEER)).toBe("2001:db8:5::/48");
  expect(trustedClientBucket("[2001:db8:6::1]", PEER)).toBe("2001:db8:6::/48");
  expect(trustedClientBucket("::ffff:198.51.100.4", PEER)).toBe("198.51.100.4");
  // A zone names an interface of the sender, not another client: the address's bucket.
  expect(trustedClientBucket("fe80::1%eth0", PEER)).toBe("fe80::/48");
});

test("a list counts by its last entry, the one the nearest proxy appended", () => {
  expect(trustedClientBucket("203.0.113.9, 198.51.100.4", PEER)).toBe("198.51.100.4");
  expect(trustedClientBucket("203.0.113.9,2001:db8:7::1", PEER)).toBe("2001:db8:7::/48");
});

test("a header that names no address never throws and never picks a bucket: the peer counts", () => {
  for (const value of [
    "",
    " ",
    "garbage",
    "198.51.100.4,",
    "198.51.100.4:443",
    "[2001:db8::1]:443",
    "0x7f.1",
    "1.2.3.4.5",
    "unknown",
    "\u0000",
    "9".repeat(10_000),
  ])
    expect(trustedClientBucket(value, PEER)).toBe(PEER);
  expect(trustedClientBucket(undefined, PEER)).toBe(PEER);
  expect(trustedClientBucket("garbage", undefined)).toBeNull();
  expect(trustedClientBucket(undefined, "not an address")).toBeNull();
});
