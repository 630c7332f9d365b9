/**
 * The one module that imports sharp. Everything image-shaped in the worker goes through these
 * few functions, so encoder options live in one place and stay fixed: the same pixels always
 * encode to the same bytes (the store is content-addressed and procedural seeds must reproduce).
 */
import sharp, { type Sharp } from "sharp";
import type { ImageFormat } from "../../shared/job-states.ts";

/** Raw interleaved 8-bit pixels, row by row. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

export type ImageSource = { pixels: Pixels } | { svg: string } | { encoded: Uint8Array };

/** `pixelated` keeps hard block edges when scaling (pixel art); `smooth` interpolates. */
export type Scaling = "smooth" | "pixelated";

export interface RasterTarget {
  width: number;
  height: number;
  /** `cover` keeps the aspect ratio and crops the overflow; `fill` stretches. */
  fit: "cover" | "fill";
  scaling?: Scaling;
}

export interface ImageInfo {
  width: number;
  height: number;
  /** null when the bytes are an image in a format we do not produce (gif, tiff, …). */
  format: ImageFormat | null;
}

export const THUMBNAIL_SIZE = 256;
/** Longest side of a preview sent while rendering: small enough to travel in a status event. */
export const PREVIEW_SIZE = 128;

// Upstream bytes are untrusted: refuse decompression bombs well before they exhaust memory.
const MAX_INPUT_PIXELS = 4096 * 4096;

// Fixed encoder settings. AVIF effort is low on purpose: effort 4 (sharp's default) takes
// seconds for a 2048² image on two cores, effort 1 a few hundred milliseconds.
const ENCODERS: Record<ImageFormat, (image: Sharp) => Sharp> = {
  webp: (image) => image.webp({ quality: 82, effort: 4 }),
  png: (image) => image.png({ compressionLevel: 6, adaptiveFiltering: false, palette: false }),
  jpeg: (image) => image.jpeg({ quality: 85, chromaSubsampling: "4:2:0", mozjpeg: false, progressive: false }),
  avif: (image) => image.avif({ quality: 55, effort: 1, chromaSubsampling: "4:2:0" }),
};
const encodeThumbnail = (image: Sharp) => image.webp({ quality: 75, effort: 4 });

function open(source: ImageSource): Sharp {
  if ("pixels" in source) {
    const { data, width, height, channels } = source.pixels;
    return sharp(data, { raw: { width, height, channels } });
  }
  if ("svg" in source) return sharp(Buffer.from(source.svg), { limitInputPixels: MAX_INPUT_PIXELS });
  return sharp(source.encoded, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" });
}

const kernelOf = (scaling: Scaling | undefined) => (scaling === "pixelated" ? "nearest" : "lanczos3");

/**
 * Decodes or renders `source` and scales it to exactly `target`, returning raw pixels. Encoding
 * and thumbnailing then start from the same pixels, so an SVG is rendered and a file decoded once.
 * Transparency is flattened onto black: the output formats do not all carry alpha alike.
 */
export async function rasterize(source: ImageSource, target: RasterTarget): Promise<Pixels> {
  const { data, info } = await open(source)
    .resize(target.width, target.height, { fit: target.fit, kernel: kernelOf(target.scaling) })
    .flatten({ background: "#000000" })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: bytesOf(data), width: info.width, height: info.height, channels: 3 };
}

export async function encode(pixels: Pixels, format: ImageFormat): Promise<Uint8Array> {
  return bytesOf(await ENCODERS[format](open({ pixels })).toBuffer());
}

/** Encoded bytes and the size they decode to. */
export interface SizedImage {
  bytes: Uint8Array;
  width: number;
  height: number;
}

/** A WebP preview whose longest side is THUMBNAIL_SIZE pixels, with its size as encoded. */
export async function thumbnail(pixels: Pixels, scaling?: Scaling): Promise<SizedImage> {
  const image = open({ pixels }).resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, {
    fit: "inside",
    kernel: kernelOf(scaling),
  });
  const { data, info } = await encodeThumbnail(image).toBuffer({ resolveWithObject: true });
  return { bytes: bytesOf(data), width: info.width, height: info.height };
}

/**
 * A preview for live clients: at most `maxSide` px on its longest side (never enlarged), WebP at
 * `quality`, from raw pixels or from untrusted encoded bytes (a model's partial image).
 */
export async function previewWebp(
  source: { pixels: Pixels } | { encoded: Uint8Array },
  maxSide = PREVIEW_SIZE,
  quality = 50,
): Promise<SizedImage> {
  const { data, info } = await open(source)
    .resize(maxSide, maxSide, { fit: "inside", withoutEnlargement: true })
    .flatten({ background: "#000000" })
    .webp({ quality, effort: 2 })
    .toBuffer({ resolveWithObject: true });
  return { bytes: bytesOf(data), width: info.width, height: info.height };
}

/** Width, height and format of encoded bytes; rejects what is not a decodable image. */
export async function readImageInfo(bytes: Uint8Array): Promise<ImageInfo> {
  const meta = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  return { width: meta.width, height: meta.height, format: formatOf(meta.format, meta.compression) };
}

function formatOf(format: string, compression: string | undefined): ImageFormat | null {
  // libvips reads AVIF through libheif and reports it as HEIF with AV1 compression.
  if (format === "heif") return compression === "av1" ? "avif" : null;
  return format === "webp" || format === "png" || format === "jpeg" ? format : null;
}

function bytesOf(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
