import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageKey, sha256Hex } from "./image-key.ts";
import { createLocalImageStore } from "./local-image-store.ts";

const dir = await mkdtemp(join(tmpdir(), "image-store-"));
afterAll(() => rm(dir, { recursive: true, force: true }));
const store = createLocalImageStore(join(dir, "images"));
const bytes = new TextEncoder().encode(`pretend image ${crypto.randomUUID()}`);

test("put stores under the content address and get returns the bytes, type and hash", async () => {
  const sha256 = sha256Hex(bytes);
  const stored = await store.put(bytes, "webp");
  expect(stored).toEqual({ key: `${sha256.slice(0, 2)}/${sha256}.webp`, sha256, bytes: bytes.length });
  expect(await store.get(stored.key)).toEqual({ body: bytes, contentType: "image/webp", sha256 });
});

test("storing the same bytes twice writes one file once and leaves no temp files", async () => {
  const first = await store.put(bytes, "png");
  const path = join(dir, "images", first.key);
  const written = (await stat(path)).mtimeMs;
  await Bun.sleep(20);
  const again = await Promise.all([store.put(bytes, "png"), store.put(bytes, "png")]);
  expect(again).toEqual([first, first]);
  expect((await stat(path)).mtimeMs).toBe(written);
  const folder = await readdir(join(dir, "images", first.key.slice(0, 2)));
  expect(folder.filter((name) => name.endsWith(".tmp"))).toEqual([]);
});

test("a put writes before the event loop turns: in a busy worker a turn waits behind a drawing slice", async () => {
  const fresh = new TextEncoder().encode(`another image ${crypto.randomUUID()}`);
  const pending = store.put(fresh, "avif");
  // Not awaited yet: the file is already in place.
  expect(existsSync(join(dir, "images", imageKey(sha256Hex(fresh), "avif")))).toBe(true);
  expect((await store.get((await pending).key))?.body).toEqual(fresh);
});

test("an image over the synchronous limit is written on the thread pool, and stored all the same", async () => {
  const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251);
  big.set(new TextEncoder().encode(crypto.randomUUID()));
  const pending = store.put(big, "png");
  expect(existsSync(join(dir, "images", imageKey(sha256Hex(big), "png")))).toBe(false);
  const stored = await pending;
  expect(stored.bytes).toBe(big.byteLength);
  expect((await store.get(stored.key))?.body).toEqual(big);
});

test("a put that cannot write is a retryable storage_error, rejected rather than thrown, and leaves no temp file", async () => {
  const notAFolder = join(dir, "a-file");
  await writeFile(notAFolder, "not a folder");
  const blocked = createLocalImageStore(notAFolder);
  await expect(blocked.put(bytes, "webp")).rejects.toMatchObject({ code: "storage_error", retryable: true });

  // A folder where the image should go: the write succeeds, the rename into place does not.
  const fresh = new TextEncoder().encode(`blocked image ${crypto.randomUUID()}`);
  const key = imageKey(sha256Hex(fresh), "webp");
  await mkdir(join(dir, "images", key), { recursive: true });
  await expect(store.put(fresh, "webp")).rejects.toMatchObject({ code: "storage_error", retryable: true });
  const folder = await readdir(join(dir, "images", key.slice(0, 2)));
  expect(folder.filter((name) => name.endsWith(".tmp"))).toEqual([]);
});

test("a half-written file left by a crash is replaced, not served", async () => {
  const other = new TextEncoder().encode(`another image ${crypto.randomUUID()}`);
  const sha256 = sha256Hex(other);
  const key = `${sha256.slice(0, 2)}/${sha256}.jpeg`;
  await Bun.write(join(dir, "images", key), other.slice(0, 5));
  await store.put(other, "jpeg");
  expect((await store.get(key))?.body).toEqual(other);
});

test("an unknown key is null", async () => {
  expect(await store.get(`ab/ab${"0".repeat(62)}.png`)).toBeNull();
});

test.each([
  ["../../etc/passwd"],
  ["../secret.png"],
  [`ab/../../${"a".repeat(64)}.png`],
  [`/ab/ab${"0".repeat(62)}.png`],
  [`cd/ab${"0".repeat(62)}.png`],
  [`ab/ab${"0".repeat(62)}.gif`],
  [`AB/AB${"0".repeat(62)}.png`],
])("a malformed key (%s) is refused as invalid_request", async (key) => {
  await writeFile(join(dir, "secret.png"), "secret");
  await expect(store.get(key)).rejects.toMatchObject({ code: "invalid_request", retryable: false });
});

test("a folder removed after the store made it is made again on the next put", async () => {
  const own = createLocalImageStore(join(dir, "removed"));
  const first = new TextEncoder().encode(`first ${crypto.randomUUID()}`);
  await own.put(first, "png");
  await rm(join(dir, "removed"), { recursive: true, force: true });
  // Same two-character folder as the first image: the store believes it exists.
  let other: Uint8Array;
  do other = new TextEncoder().encode(`other ${crypto.randomUUID()}`);
  while (sha256Hex(other).slice(0, 2) !== sha256Hex(first).slice(0, 2));
  const stored = await own.put(other, "png");
  expect((await own.get(stored.key))?.body).toEqual(other);
});
