/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter so ids minted in the
 * same millisecond still sort in creation order, then 62 random bits.
 */
export function uuidv7Generator(): (now?: number) => string {
  let lastMs = -1;
  let counter = 0;
  return (now = Date.now()) => {
    if (now === lastMs) {
      counter = (counter + 1) & 0xfff;
      // Counter exhausted within one millisecond: borrow the next millisecond to stay monotonic.
      if (counter === 0) now = ++lastMs;
    } else if (now < lastMs) {
      now = lastMs;
      counter = (counter + 1) & 0xfff;
    } else {
      lastMs = now;
      counter = 0;
    }
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes.subarray(8));
    const ms = BigInt(now);
    for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
    bytes[6] = 0x70 | (counter >> 8);
    bytes[7] = counter & 0xff;
    bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}

/**
 * The process's id generator. A clock stepping back never makes ids go back; they keep the last
 * millisecond until the clock catches up. (Tests that mint ids of other times use their own
 * generator, so they do not push this one's clock.)
 */
export const uuidv7 = uuidv7Generator();

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/**
 * The smallest UUIDv7 of a millisecond: every id minted at or after `ms` sorts at or above it, and
 * every id minted before sorts below. Turns "created before / since" into id ranges.
 */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0").slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
