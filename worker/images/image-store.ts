import type { ImageFormat } from "../../shared/job-states.ts";

export interface StoredImage {
  /** Content-addressed: `<first two hex of sha256>/<sha256>.<ext>`; same bytes, same key. */
  key: string;
  sha256: string;
  bytes: number;
}

export interface ImageObject {
  body: Uint8Array;
  contentType: string;
  sha256: string;
}

/** Where finished images live: a local folder by default, S3-compatible in production. */
export interface ImageStore {
  /** Idempotent: storing the same bytes twice keeps one object. */
  put(bytes: Uint8Array, format: ImageFormat): Promise<StoredImage>;
  get(key: string): Promise<ImageObject | null>;
  /** Idempotent: deleting a key that is not stored succeeds. */
  delete(key: string): Promise<void>;
}
