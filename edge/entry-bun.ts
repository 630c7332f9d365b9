/** The edge on Bun (local and containers): `bun edge/entry-bun.ts`. */
import { ConfigError, parseConfig } from "../shared/config/parse-config.ts";
import { createEdgeApp } from "./app.ts";
import { buildEdgeDeps } from "./build-deps.ts";

let deps: ReturnType<typeof buildEdgeDeps>;
let host: string;
try {
  deps = buildEdgeDeps(process.env, { terminal: process.stdout.isTTY });
  host = parseConfig(process.env, ["listen"]).listen.host;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const server = Bun.serve({ hostname: host, port: deps.config.edge.port, fetch: createEdgeApp(deps).fetch });
deps.logger.info("edge listening", { url: `http://${host}:${server.port}` });
const stop = () => {
  void server.stop().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
