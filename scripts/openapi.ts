/** `npm run openapi`: writes the generated OpenAPI documents to docs/ (a test fails when they are stale). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { edgeOpenApiDocument } from "../edge/openapi-document.ts";
import { ROOT } from "../infrastructure/paths.ts";
import { parseConfig } from "../shared/config/parse-config.ts";
import { workerOpenApiDocument } from "../worker/http/openapi-document.ts";

/** The committed documents describe the default configuration (local URLs). */
export const OPENAPI_FILES = {
  edge: join(ROOT, "docs/openapi.json"),
  worker: join(ROOT, "docs/openapi.worker.json"),
};

export function renderOpenApi(): Record<keyof typeof OPENAPI_FILES, string> {
  const config = parseConfig({}, ["public", "edge", "webhooks"]);
  const render = (document: object) => `${JSON.stringify(document, null, 2)}\n`;
  return { edge: render(edgeOpenApiDocument(config)), worker: render(workerOpenApiDocument(config)) };
}

if (import.meta.main) {
  const rendered = renderOpenApi();
  for (const [name, file] of Object.entries(OPENAPI_FILES))
    writeFileSync(file, rendered[name as keyof typeof rendered]);
  console.log(`wrote ${Object.values(OPENAPI_FILES).join(", ")}`);
}
