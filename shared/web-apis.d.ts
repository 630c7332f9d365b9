/**
 * The only globals shared/ may use besides ECMAScript itself (ES2023): a few Web APIs that
 * every runtime of ours provides — Workers, Deno, Bun, and browsers — all within the WinterTC
 * Minimum Common API. shared/tsconfig.json checks shared/ against ES2023 and this file alone, so
 * reaching for anything else (the DOM, Node, Bun) fails `npm run typecheck`.
 *
 * Each declaration is the standard one, narrowed to what shared/ calls: widen it here, on
 * purpose, when shared/ needs more. It cannot drift from the real API unnoticed, because edge/
 * and the Bun tiers compile the same shared/ files against the runtimes' own type definitions.
 * (The alternatives each lie: `lib: ["DOM"]` offers `document` and `localStorage`; one runtime's
 * types offer that runtime's extras.)
 */

type BufferSource = ArrayBufferView | ArrayBuffer;

interface TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}
declare var TextEncoder: { new (): TextEncoder };

interface TextDecoder {
  decode(input?: BufferSource): string;
}
declare var TextDecoder: { new (label?: string): TextDecoder };

interface URL {
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
  readonly hostname: string;
  readonly port: string;
  toString(): string;
}
declare var URL: { new (url: string, base?: string): URL };

declare function btoa(data: string): string;
declare function atob(data: string): string;

/**
 * Opaque: shared/ only passes keys from `importKey`/`deriveKey` on to `sign`, `verify`,
 * `deriveKey` and jose (token keys: HMAC keys derived from AUTH_JWT_SECRET with HKDF).
 */
interface CryptoKey {
  readonly type: string;
}
interface SubtleCrypto {
  importKey(
    format: "raw",
    keyData: BufferSource,
    algorithm: { name: "HMAC"; hash: "SHA-256" },
    extractable: boolean,
    keyUsages: ("sign" | "verify")[],
  ): Promise<CryptoKey>;
  importKey(
    format: "raw",
    keyData: BufferSource,
    algorithm: "HKDF",
    extractable: false,
    keyUsages: "deriveKey"[],
  ): Promise<CryptoKey>;
  deriveKey(
    algorithm: { name: "HKDF"; hash: "SHA-256"; salt: BufferSource; info: BufferSource },
    baseKey: CryptoKey,
    derivedKeyType: { name: "HMAC"; hash: "SHA-256"; length: number },
    extractable: boolean,
    keyUsages: ("sign" | "verify")[],
  ): Promise<CryptoKey>;
  sign(algorithm: "HMAC", key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  verify(algorithm: "HMAC", key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>;
  digest(algorithm: "SHA-256", data: BufferSource): Promise<ArrayBuffer>;
}
interface Crypto {
  readonly subtle: SubtleCrypto;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
}
declare var crypto: Crypto;

interface Console {
  log(...data: unknown[]): void;
  error(...data: unknown[]): void;
}
declare var console: Console;
