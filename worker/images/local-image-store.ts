/**
 * Images in a local folder, one file per key. Writes go to a temp file that is renamed into
 * place, so a reader never sees half an image; the same bytes always land on the same path,
 * so writing twice (a retried job, two workers) leaves one file.
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PipelineError } from "../../shared/errors.ts";
import { CONTENT_TYPES, type ImageFormat } from "../../shared/job-states.ts";
import { imageKey, parseImageKey, sha256Hex } from "./image-key.ts";
import type { ImageObject, ImageStore, StoredImage } from "./image-store.ts";

const isMissing = (error: unknown) => (error as { code?: unknown } | null)?.code === "ENOENT";

/**
 * Up to this size an image is written synchronously (see `put`): a 1024² webp is a few hundred
 * KiB. A bigger one (a 2048² noise PNG reaches ~13 MiB) is written on the thread pool, so a disk
 * slow to take it (the kernel paces writers to a disk behind on dirty pages) holds the write, not
 * the worker's event loop: at 10 MB/s, 1 MiB is ~100 ms of the supervisor's 1 s (pipeline-supervisor.ts).
 */
const SYNC_WRITE_MAX_BYTES = 1024 * 1024;
/** The size of the file at `path`, or undefined when there is none (or it cannot be read: then it is written). */
const sizeOf = (path: string): number | undefined => {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
};

export function createLocalImageStore(dir: string): ImageStore {
  // Folders this store has made: a put is then one write and one rename, the fewest steps
  // between a finished render and its outcome. Deletes never remove folders.
  const made = new Set<string>();
  // A promise only when the write goes to the thread pool: a synchronous put awaits nothing.
  const writeTemp = (folder: string, temp: string, bytes: Uint8Array): Promise<void> | undefined => {
    if (bytes.byteLength > SYNC_WRITE_MAX_BYTES) {
      // Rare, and off the event loop anyway: the folder is made every time rather than retried.
      mkdirSync(folder, { recursive: true });
      return writeFile(temp, bytes);
    }
    if (!made.has(folder)) mkdirSync(folder, { recursive: true });
    try {
      writeFileSync(temp, bytes);
    } catch (error) {
      // The folder went away under us (the image folder removed by hand): make it again, once.
      if (!isMissing(error)) throw error;
      mkdirSync(folder, { recursive: true });
      writeFileSync(temp, bytes);
    }
    made.add(folder);
    return undefined;
  };
  return {
    async put(bytes: Uint8Array, format: ImageFormat): Promise<StoredImage> {
      const sha256 = sha256Hex(bytes);
      const key = imageKey(sha256, format);
      const path = join(dir, key);
      const stored = { key, sha256, bytes: bytes.byteLength };
      const temp = `${path}.${crypto.randomUUID()}.tmp`;
      try {
        // Synchronous on purpose (for images up to SYNC_WRITE_MAX_BYTES): on a local disk each
        // step is a page-cache copy or a metadata change of well under a millisecond, where each
        // awaited one cost an event-loop turn, and a busy worker's turn waits behind a 10 ms
        // drawing slice: three or four of them between a render and its outcome.
        // Same key, same bytes: an existing file of the right size is this image already.
        if (sizeOf(path) === bytes.byteLength) return stored;
        const writing = writeTemp(dirname(path), temp, bytes);
        if (writing) await writing;
        renameSync(temp, path);
        return stored;
      } catch (error) {
        try {
          rmSync(temp, { force: true });
        } catch {
          // A temp file left behind is never served: readers ask for keys, not temp names.
        }
        throw new PipelineError("storage_error", `could not store image ${key}: ${String(error)}`, {
          retryable: true,
          cause: error,
        });
      }
    },

    async get(key: string): Promise<ImageObject | null> {
      const parsed = parseImageKey(key);
      if (!parsed) throw new PipelineError("invalid_request", `not an image key: ${JSON.stringify(key)}`);
      try {
        const body = new Uint8Array(await readFile(join(dir, key)));
        return { body, contentType: CONTENT_TYPES[parsed.format], sha256: parsed.sha256 };
      } catch (error) {
        if (isMissing(error)) return null;
        throw new PipelineError("storage_error", `could not read image ${key}: ${String(error)}`, {
          retryable: true,
          cause: error,
        });
      }
    },

    async delete(key: string): Promise<void> {
      if (!parseImageKey(key)) throw new PipelineError("invalid_request", `not an image key: ${JSON.stringify(key)}`);
      try {
        // The folder stays: removing it could race a put that just created it.
        await rm(join(dir, key), { force: true });
      } catch (error) {
        throw new PipelineError("storage_error", `could not delete image ${key}: ${String(error)}`, {
          retryable: true,
          cause: error,
        });
      }
    },
  };
}
