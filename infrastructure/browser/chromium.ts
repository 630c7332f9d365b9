/**
 * Debian's Chromium for browser tests, driven by playwright-core (which cannot download its own
 * browser here): use /usr/bin/chromium, installing it with apt-get when missing and we are root.
 */
import { existsSync } from "node:fs";

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

export async function ensureChromium(log: (line: string) => void = console.log): Promise<string> {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0 || !Bun.which("apt-get"))
    throw new Error("chromium is not installed: run `sudo apt-get install chromium` for the browser tests");
  log("installing Debian's chromium for the browser tests (first run only)…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const cmd of [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
  ]) {
    const code = await Bun.spawn(cmd, { env, stdout: "ignore", stderr: "inherit" }).exited;
    if (code !== 0) throw new Error(`${cmd.join(" ")} failed with exit ${code}`);
  }
  if (!existsSync(CHROMIUM)) throw new Error("chromium still missing after apt-get install");
  return CHROMIUM;
}
