/**
 * `npm run check` part: builds the Worker of each environment in wrangler.toml with
 * `wrangler deploy --dry-run` (offline: nothing is uploaded) into dist/workers/<env>.
 * Exits 1 with wrangler's output when one fails.
 */
import { join } from "node:path";
import { buildWorker, wranglerEnvironments } from "../infrastructure/edge-runtimes/wrangler-cli.ts";
import { ROOT } from "../infrastructure/paths.ts";

const environments = await wranglerEnvironments();
if (environments.length === 0) {
  console.error("wrangler.toml declares no [env.*] environment");
  process.exit(1);
}
for (const env of environments) {
  const { code, output } = await buildWorker(join(ROOT, "dist/workers", env), env);
  if (code !== 0) {
    console.error(`wrangler deploy --dry-run --env ${env} failed:\n${output}`);
    process.exit(1);
  }
  const size = /Total Upload: ([^\n]+)/.exec(output)?.[1] ?? "size unknown";
  console.log(`wrangler deploy --dry-run --env ${env}: ok (${size})`);
}
