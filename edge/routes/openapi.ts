import { Hono } from "hono";
import type { EdgeDeps } from "../edge-deps.ts";
import { edgeOpenApiDocument } from "../openapi-document.ts";

/** `GET /openapi.json`: public, built once per app from this deployment's public URLs. */
export function openApiRoute(deps: Pick<EdgeDeps, "config">) {
  const app = new Hono();
  let document: string | undefined;
  app.get("/openapi.json", (c) => {
    document ??= JSON.stringify(edgeOpenApiDocument(deps.config));
    c.header("Cache-Control", "public, max-age=300");
    return c.body(document, 200, { "Content-Type": "application/json; charset=utf-8" });
  });
  return app;
}
