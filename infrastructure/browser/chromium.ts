/**
 * Debian's Chromium for browser tests, driven by playwright-core (which cannot download its own
 * browser here).
 */
import { ensureDebianProgram } from "../debian-package.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** Flags for a headless run as root on a machine with no network but loopback. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const ensureChromium = (log: (line: string) => void = console.log): Promise<string> =>
  ensureDebianProgram(CHROMIUM, "chromium", log, " for the browser tests");
