/** The edge on Deno: `deno run --allow-net --allow-env edge/entry-deno.ts`. */
import { createEdgeApp } from "./app.ts";
import { buildEdgeDeps } from "./build-deps.ts";

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(options: { port: number }, handler: (r: Request) => Response | Promise<Response>): unknown;
};

const deps = buildEdgeDeps(Deno.env.toObject());
Deno.serve({ port: deps.config.edge.port }, createEdgeApp(deps).fetch);
