/**
 * `GET /images/{key}`: stored images, cached forever by browsers and CDNs. Keys are content
 * addresses, so an image under a key never changes and its sha256 is a perfect ETag.
 */
import { Hono } from "hono";
import { parseImageKey } from "./image-key.ts";
import type { ImageStore } from "./image-store.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";
const error = (code: string, message: string) => ({ error: { code, message } });

/** If-None-Match uses weak comparison (RFC 9110 §13.1.2): `W/` prefixes are ignored. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === etag;
  });
}

export function imageRoutes(store: ImageStore): Hono {
  const app = new Hono();
  app.get("/images/:key{.+}", async (c) => {
    const key = c.req.param("key");
    if (!parseImageKey(key))
      return c.json(error("invalid_request", "image keys look like <2 hex>/<sha256>.<webp|png|jpeg|avif>"), 400);
    let image: Awaited<ReturnType<ImageStore["get"]>>;
    try {
      image = await store.get(key);
    } catch {
      return c.json(error("unavailable", "the image store cannot be read right now"), 503);
    }
    if (!image) return c.json(error("not_found", `no image ${key}`), 404);
    const etag = `"${image.sha256}"`;
    const headers = { ETag: etag, "Cache-Control": IMMUTABLE };
    if (matches(c.req.header("if-none-match"), etag)) return c.body(null, 304, headers);
    // Stores hand out plain ArrayBuffer views; copy only if one ever hands out shared memory.
    const body =
      image.body.buffer instanceof ArrayBuffer ? (image.body as Uint8Array<ArrayBuffer>) : new Uint8Array(image.body);
    return c.body(body, 200, {
      ...headers,
      "Content-Type": image.contentType,
      "Content-Length": String(image.body.byteLength),
    });
  });
  return app;
}
