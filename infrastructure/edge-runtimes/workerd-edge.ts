/**
 * The edge on workerd, Cloudflare's Workers runtime, locally (`npm run edge:workerd`): the
 * Worker that `wrangler deploy` would upload, served by the workerd binary from npm through
 * Miniflare on LISTEN_HOST:EDGE_PORT. Its bindings are the configuration variables set in this
 * process's environment, as `wrangler secret put` and `[vars]` provide them in production.
 * (`wrangler dev` itself cannot forward requests when it runs under Bun.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { allVariables } from "../../shared/config/parse-config.ts";
import { configOrExit, loggerFor } from "../../worker/runtime/entry.ts";
import { buildWorker, WRANGLER_CONFIG } from "./wrangler-cli.ts";

const config = configOrExit(process.env, ["listen", "edge"]);
const logger = loggerFor(config, "workerd-edge");

const outdir = mkdtempSync(join(tmpdir(), "workerd-edge-"));
const build = await buildWorker(outdir, "");
if (build.code !== 0) {
  console.error(`wrangler could not build the Worker:\n${build.output}`);
  process.exit(1);
}
const wrangler = Bun.TOML.parse(await Bun.file(WRANGLER_CONFIG).text()) as {
  main: string;
  compatibility_date: string;
  compatibility_flags?: string[];
};
const bindings: Record<string, string> = {};
for (const { env } of allVariables()) {
  const value = process.env[env];
  if (value !== undefined) bindings[env] = value;
}

const miniflare = new Miniflare(
  convertV4MiniflareOptions({
    host: config.listen.host,
    port: config.edge.port,
    // The `cf` object of a request is a placeholder: fetching a real one needs Cloudflare's network.
    cf: false,
    log: new Log(LogLevel.WARN),
    workers: [
      {
        name: "pixel-studio-edge",
        modules: true,
        modulesRoot: outdir,
        scriptPath: join(outdir, `${wrangler.main.replace(/^.*\//, "").replace(/\.ts$/, "")}.js`),
        compatibilityDate: wrangler.compatibility_date,
        compatibilityFlags: wrangler.compatibility_flags ?? [],
        bindings,
      },
    ],
  }),
);
const url = await miniflare.ready;
logger.info("edge listening on workerd", { url: url.href });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await miniflare.dispose();
  rmSync(outdir, { recursive: true, force: true });
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
