/** The edge on Deno: `npm run edge:deno` (`deno run --config edge/deno.json --allow-net --allow-env` this file). */
import { edgeFromEnv } from "./edge-from-env.ts";

const edge = edgeFromEnv(Deno.env.toObject(), { terminal: Deno.stdout.isTerminal() });
if (!edge.ok) {
  console.error(edge.problem);
  Deno.exit(1);
}
const { app } = edge;
const server = Deno.serve(
  {
    hostname: edge.host,
    port: edge.port,
    onListen: (at) => edge.logger.info("edge listening", { url: `http://${at.hostname}:${at.port}/` }),
  },
  // The peer address reaches the app the way Bun's server offers it (`requestIP`), for per-IP limits.
  (request, info) => app.fetch(request, { requestIP: () => ({ address: info.remoteAddr.hostname }) }),
);
// Requests in flight finish before the process ends, as on Bun.
const stop = () => void server.shutdown().then(() => Deno.exit(0));
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
