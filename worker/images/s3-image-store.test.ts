/**
 * S3 cannot be reached from tests, so this runs against a small stand-in that keeps to S3's
 * documented object API for what the store uses: path-style PUT and GET, `404 NoSuchKey` and
 * `403 InvalidAccessKeyId` XML errors, and `503 SlowDown`. It checks the SigV4 credential scope,
 * not the signature itself.
 */
import { afterAll, expect, test } from "bun:test";
import { PipelineError } from "../../shared/errors.ts";
import { sha256Hex } from "./image-key.ts";
import { createS3ImageStore } from "./s3-image-store.ts";

const BUCKET = "pixel-images";
const ACCESS_KEY_ID = "AKIATESTSTANDIN0001";
const objects = new Map<string, { body: Uint8Array; type: string }>();
let requests = 0;
let slowDown = 0;

const s3Error = (status: number, code: string, message: string) =>
  new Response(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${crypto.randomUUID()}</RequestId></Error>`,
    { status, headers: { "content-type": "application/xml" } },
  );

const s3 = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    requests++;
    const auth = request.headers.get("authorization") ?? "";
    if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/`))
      return s3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    if (slowDown > 0) {
      slowDown--;
      return s3Error(503, "SlowDown", "Please reduce your request rate.");
    }
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (!path.startsWith(`/${BUCKET}/`)) return s3Error(404, "NoSuchBucket", "The specified bucket does not exist");
    const key = path.slice(BUCKET.length + 2);
    if (request.method === "PUT") {
      const body = new Uint8Array(await request.arrayBuffer());
      objects.set(key, { body, type: request.headers.get("content-type") ?? "binary/octet-stream" });
      return new Response(null, { headers: { etag: `"${new Bun.CryptoHasher("md5").update(body).digest("hex")}"` } });
    }
    if (request.method === "GET") {
      const object = objects.get(key);
      if (!object) return s3Error(404, "NoSuchKey", "The specified key does not exist.");
      return new Response(object.body, { headers: { "content-type": object.type } });
    }
    return s3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  },
});
afterAll(() => s3.stop(true));

const options = {
  bucket: BUCKET,
  endpoint: `http://127.0.0.1:${s3.port}`,
  region: "us-east-1",
  accessKeyId: ACCESS_KEY_ID,
  secretAccessKey: "test-secret",
};
const store = createS3ImageStore(options);
const bytes = new TextEncoder().encode(`s3 image ${crypto.randomUUID()}`);

test("put writes under the content address with the content type; get reads it back", async () => {
  const sha256 = sha256Hex(bytes);
  const stored = await store.put(bytes, "avif");
  expect(stored).toEqual({ key: `${sha256.slice(0, 2)}/${sha256}.avif`, sha256, bytes: bytes.length });
  expect(objects.get(stored.key)?.type).toBe("image/avif");
  const image = await store.get(stored.key);
  expect(image).toEqual({ body: bytes, contentType: "image/avif", sha256 });
});

test("putting the same bytes again names the same object", async () => {
  const first = await store.put(bytes, "webp");
  const second = await store.put(bytes, "webp");
  expect(second).toEqual(first);
  expect(objects.get(first.key)?.body).toEqual(bytes);
});

test("an unknown key is null and a malformed key is refused before any request", async () => {
  expect(await store.get(`00/${"0".repeat(64)}.png`)).toBeNull();
  const before = requests;
  await expect(store.get("../secrets.png")).rejects.toMatchObject({ code: "invalid_request", retryable: false });
  expect(requests).toBe(before);
});

test("throttling is a retryable storage error", async () => {
  slowDown = 1;
  const error = await store.put(bytes, "png").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PipelineError);
  expect(error).toMatchObject({ code: "storage_error", retryable: true });
  expect((await store.put(bytes, "png")).bytes).toBe(bytes.length);
});

test("unknown credentials are a storage error that retrying cannot fix", async () => {
  const stranger = createS3ImageStore({ ...options, accessKeyId: "AKIAUNKNOWN" });
  await expect(stranger.get(`00/${"0".repeat(64)}.png`)).rejects.toMatchObject({
    code: "storage_error",
    retryable: false,
  });
});
