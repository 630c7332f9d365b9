/** The edge on Cloudflare Workers (`wrangler.toml`): built once per isolate from its bindings. */
import { type EdgeFromEnv, edgeFromEnv } from "./edge-from-env.ts";

let edge: EdgeFromEnv | undefined;

export default {
  fetch(request, env, ctx) {
    if (!edge) {
      edge = edgeFromEnv(env);
      // A Worker cannot exit: say once per isolate what is wrong, and answer 503 meanwhile.
      if (!edge.ok) console.error(edge.problem);
    }
    return edge.ok ? edge.app.fetch(request, env, ctx) : edge.fetch(request);
  },
} satisfies ExportedHandler<Record<string, string>>;
