/**
 * Content-addressed image keys, `<first two hex of sha256>/<sha256>.<format>`. Parsing is strict
 * so that a key taken from a URL can never name anything but a stored image (no `..`, no
 * absolute paths, no temp files).
 */
import { FORMATS, type ImageFormat } from "../../shared/job-states.ts";

export const IMAGE_KEY = new RegExp(`^([0-9a-f]{2})/([0-9a-f]{64})\\.(${FORMATS.join("|")})$`);

export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

export function imageKey(sha256: string, format: ImageFormat): string {
  return `${sha256.slice(0, 2)}/${sha256}.${format}`;
}

export function parseImageKey(key: string): { sha256: string; format: ImageFormat } | null {
  const match = IMAGE_KEY.exec(key);
  const [, folder, sha256, format] = match ?? [];
  if (!folder || !sha256?.startsWith(folder)) return null;
  return { sha256, format: format as ImageFormat };
}
