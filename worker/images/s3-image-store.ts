/**
 * Images in an S3-compatible bucket through Bun's built-in client, the one S3 import in the
 * code base. Keys are content addresses, so a repeated put writes identical bytes under the
 * same key: overwriting is harmless and needs no conditional request.
 */
import { S3Client } from "bun";
import { PipelineError } from "../../shared/errors.ts";
import { CONTENT_TYPES, type ImageFormat } from "../../shared/job-states.ts";
import { imageKey, parseImageKey, sha256Hex } from "./image-key.ts";
import type { ImageObject, ImageStore, StoredImage } from "./image-store.ts";

export interface S3StoreOptions {
  bucket: string;
  /** Empty or undefined: AWS, addressed by `region`. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

// S3 answers a missing key with 404 NoSuchKey; Bun surfaces any 404 as an S3Error with that code.
const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;
// Wrong credentials or bucket stay wrong however often we retry; throttling and 5xx pass.
const PERMANENT = new Set(["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket"]);

export function createS3ImageStore(options: S3StoreOptions): ImageStore {
  const client = new S3Client({
    bucket: options.bucket,
    region: options.region,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });

  const storageError = (action: string, key: string, error: unknown) =>
    new PipelineError("storage_error", `could not ${action} image ${key} in S3: ${String(error)}`, {
      retryable: !PERMANENT.has(String(codeOf(error))),
      cause: error,
    });

  return {
    async put(bytes: Uint8Array, format: ImageFormat): Promise<StoredImage> {
      const sha256 = sha256Hex(bytes);
      const key = imageKey(sha256, format);
      try {
        await client.write(key, bytes, { type: CONTENT_TYPES[format] });
      } catch (error) {
        throw storageError("store", key, error);
      }
      return { key, sha256, bytes: bytes.byteLength };
    },

    async get(key: string): Promise<ImageObject | null> {
      const parsed = parseImageKey(key);
      if (!parsed) throw new PipelineError("invalid_request", `not an image key: ${JSON.stringify(key)}`);
      try {
        const body = await client.file(key).bytes();
        return { body, contentType: CONTENT_TYPES[parsed.format], sha256: parsed.sha256 };
      } catch (error) {
        if (codeOf(error) === "NoSuchKey") return null;
        throw storageError("read", key, error);
      }
    },

    async delete(key: string): Promise<void> {
      if (!parseImageKey(key)) throw new PipelineError("invalid_request", `not an image key: ${JSON.stringify(key)}`);
      try {
        // S3 answers 204 whether or not the key existed: deleting twice is fine.
        await client.delete(key);
      } catch (error) {
        throw storageError("delete", key, error);
      }
    },
  };
}
