import { join, resolve } from "node:path";

/** Where local infrastructure keeps its state: all under ignored folders of the checkout. */
export const ROOT = resolve(import.meta.dir, "..");
export const DATA_DIR = join(ROOT, ".data");
export const CACHE_DIR = join(ROOT, ".cache");
