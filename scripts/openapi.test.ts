import { afterAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeApp } from "../edge/app.ts";
import { buildEdgeDeps } from "../edge/build-deps.ts";
import { ROOT } from "../infrastructure/paths.ts";
import { OPENAPI_FILES, renderOpenApi } from "./openapi.ts";

const REDOCLY = join(ROOT, "node_modules/@redocly/cli/bin/cli.js");
const scratch = mkdtempSync(join(tmpdir(), "openapi-lint-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the pinned Redocly CLI (under Bun, offline) in `cwd` with the repo's rules. */
async function lint(cwd: string, files: string[] = []) {
  const proc = Bun.spawn([process.execPath, REDOCLY, "lint", "--format", "stylish", ...files], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

/** A folder laid out like the repo (rules, exceptions, docs/openapi.json) holding `document`. */
function asRepo(name: string, document: unknown): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "docs"), { recursive: true });
  for (const file of ["redocly.yaml", ".redocly.lint-ignore.yaml"]) copyFileSync(join(ROOT, file), join(dir, file));
  writeFileSync(join(dir, "docs/openapi.json"), JSON.stringify(document, null, 2));
  return dir;
}

async function servedDocument(env: Record<string, string> = {}) {
  const secret = "s".repeat(40);
  const app = createEdgeApp(
    buildEdgeDeps({ AUTH_JWT_SECRET: secret, KAFKA_REST_PASSWORD: secret, UPSTASH_REDIS_REST_TOKEN: secret, ...env }),
  );
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as { servers: { url: string }[]; paths: Record<string, Record<string, object>> };
}

test("docs/openapi*.json are what the code generates (run npm run openapi if this fails)", () => {
  const rendered = renderOpenApi();
  expect(readFileSync(OPENAPI_FILES.edge, "utf8")).toBe(rendered.edge);
  expect(readFileSync(OPENAPI_FILES.worker, "utf8")).toBe(rendered.worker);
});

test("the committed documents pass Redocly's recommended-strict rules", async () => {
  const result = await lint(ROOT);
  expect(result.output).not.toMatch(/\b(error|warning)\b/);
  expect(result.code).toBe(0);
});

test("GET /openapi.json of a deployment names its own origin and passes the linter", async () => {
  const served = await servedDocument({ STUDIO_ORIGIN: "https://studio.pixel.test" });
  expect(served.servers[0]?.url).toBe("https://studio.pixel.test");
  const result = await lint(asRepo("served", served), ["docs/openapi.json"]);
  expect(result.output).not.toMatch(/\b(error|warning)\b/);
  expect(result.code).toBe(0);
});

test("the linter does reject a broken document", async () => {
  const broken = await servedDocument();
  const submit = broken.paths["/api/generations"]?.post as { responses: Record<string, unknown> };
  submit.responses["202"] = { $ref: "#/components/responses/accepted" };
  const result = await lint(asRepo("broken", broken), ["docs/openapi.json"]);
  expect(result.code).not.toBe(0);
  expect(result.output).toContain("no-unresolved-refs");
});
