/** The edge on Cloudflare Workers (`wrangler.toml`): the app is built once per isolate from its bindings. */
import { createEdgeApp, type EdgeApp } from "./app.ts";
import { buildEdgeDeps } from "./build-deps.ts";

let app: EdgeApp | undefined;

export default {
  fetch(request: Request, env: Record<string, string>, ctx: unknown): Response | Promise<Response> {
    app ??= createEdgeApp(buildEdgeDeps(env));
    return app.fetch(request, env, ctx as never);
  },
};
