/**
 * Debian's Chromium for browser tests, driven by playwright-core (which cannot download its own
 * browser here). `npm test` installs it (infrastructure/system-packages.ts) before any test runs.
 */
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
