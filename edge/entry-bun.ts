/** The edge on Bun (local and containers): `bun edge/entry-bun.ts`. */
import { edgeFromEnv } from "./edge-from-env.ts";

const edge = edgeFromEnv(process.env, { terminal: process.stdout.isTTY });
if (!edge.ok) {
  console.error(edge.problem);
  process.exit(1);
}
const server = Bun.serve({ hostname: edge.host, port: edge.port, fetch: edge.app.fetch });
edge.logger.info("edge listening", { url: server.url.href });
// Requests in flight finish before the process ends.
const stop = () => void server.stop().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
