/**
 * The edge on Deno locally (`npm run edge:deno`): the Deno executable that the pinned `deno` npm
 * package ships, run with the permissions the edge needs and nothing more: network, and the
 * environment (its configuration). Signals are passed on, so Deno drains requests in flight.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT } from "../paths.ts";

// The package's `bin` is a Node.js wrapper that would not pass signals on; its installer
// resolves (and links) the executable of this platform's optional dependency instead.
const { runInstall } = createRequire(import.meta.url)("deno/install_api.cjs") as { runInstall(): string };

const deno = Bun.spawn(
  [
    runInstall(),
    "run",
    `--config=${join(ROOT, "edge/deno.json")}`,
    "--no-prompt",
    "--allow-net",
    "--allow-env",
    join(ROOT, "edge/entry-deno.ts"),
  ],
  { stdio: ["inherit", "inherit", "inherit"], env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" } },
);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => deno.kill(signal));
process.exit(await deno.exited);
