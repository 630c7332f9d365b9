import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageRoutes } from "./image-routes.ts";
import { createLocalImageStore } from "./local-image-store.ts";

const dir = await mkdtemp(join(tmpdir(), "image-routes-"));
afterAll(() => rm(dir, { recursive: true, force: true }));
const store = createLocalImageStore(dir);
const app = imageRoutes(store);
const bytes = new TextEncoder().encode(`route image ${crypto.randomUUID()}`);
const stored = await store.put(bytes, "png");
const get = (path: string, headers: Record<string, string> = {}) =>
  app.request(`http://worker.test${path}`, { headers });

test("200 with the image, its type, length, ETag and immutable caching", async () => {
  const response = await get(`/images/${stored.key}`);
  expect(response.status).toBe(200);
  expect(Object.fromEntries(response.headers)).toMatchObject({
    "content-type": "image/png",
    "content-length": String(bytes.length),
    etag: `"${stored.sha256}"`,
    "cache-control": "public, max-age=31536000, immutable",
  });
  expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
});

test.each([`"${"0".repeat(64)}", "SHA"`, "*", 'W/"SHA"'])("304 when If-None-Match is %s", async (header) => {
  const response = await get(`/images/${stored.key}`, { "if-none-match": header.replace("SHA", stored.sha256) });
  expect(response.status).toBe(304);
  expect(response.headers.get("etag")).toBe(`"${stored.sha256}"`);
  expect(await response.text()).toBe("");
});

test("HEAD answers the headers without the body", async () => {
  const response = await app.request(`http://worker.test/images/${stored.key}`, { method: "HEAD" });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-length")).toBe(String(bytes.length));
  expect(await response.text()).toBe("");
});

test("200 when If-None-Match names another image", async () => {
  const response = await get(`/images/${stored.key}`, { "if-none-match": `"${"f".repeat(64)}"` });
  expect(response.status).toBe(200);
});

test("404 not_found for a well-formed key that is not stored", async () => {
  const response = await get(`/images/ab/ab${"0".repeat(62)}.webp`);
  expect(response.status).toBe(404);
  expect(await response.json()).toEqual({ error: { code: "not_found", message: expect.any(String) } });
});

test.each([
  ["a traversal", "/images/..%2F..%2Fetc%2Fpasswd"],
  ["an encoded traversal in the key", `/images/ab/..%2F..%2F${"a".repeat(64)}.png`],
  ["a wrong extension", `/images/ab/ab${"0".repeat(62)}.gif`],
  ["no folder", `/images/ab${"0".repeat(62)}.png`],
])("400 invalid_request for %s", async (_label, path) => {
  const response = await get(path);
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ error: { code: "invalid_request" } });
});

test("503 unavailable when the store cannot be read", async () => {
  // A store whose folder is a regular file: every read fails with ENOTDIR.
  const notAFolder = join(dir, "not-a-folder");
  await Bun.write(notAFolder, "x");
  const response = await imageRoutes(createLocalImageStore(notAFolder)).request(
    `http://worker.test/images/${stored.key}`,
  );
  expect(response.status).toBe(503);
  expect(await response.json()).toMatchObject({ error: { code: "unavailable" } });
});
