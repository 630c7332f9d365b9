/**
 * The pipeline image as its operators expect it, checked without a Docker engine: pinned base
 * images, a frozen-lockfile install of runtime dependencies only, a HEALTHCHECK on /readyz, and
 * a build context holding what the image copies and nothing secret.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sections } from "../../shared/config/variables.ts";
import { ROOT } from "../paths.ts";

const dockerfile = readFileSync(join(ROOT, "infrastructure/containers/Dockerfile"), "utf8");
const instructions = dockerfile
  .split("\n")
  .filter((line) => line.trim() && !line.trim().startsWith("#"))
  .map((line) => line.trim());
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Docker's .dockerignore semantics: patterns in order, the last match wins, `!` re-includes. */
const ignorePatterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"))
  .map((l) => ({ include: l.startsWith("!"), glob: new Bun.Glob(l.replace(/^!/, "").replace(/\/$/, "")) }));
function inContext(path: string): boolean {
  const parts = path.split("/");
  const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let included = true;
  for (const p of ignorePatterns) if (selfAndParents.some((q) => p.glob.match(q))) included = p.include;
  return included;
}

/** Files the image gets from the build context (COPY without --from). */
const copied = instructions
  .filter((i) => i.startsWith("COPY ") && !i.includes("--from="))
  .flatMap((i) => i.split(/\s+/).slice(1, -1));
const shipped = ["shared", "worker", "edge"].flatMap((dir) =>
  [...new Bun.Glob(`${dir}/**/*.ts`).scanSync(ROOT)].filter(inContext),
);

describe("the pipeline image", () => {
  test("every base image is pinned to a version", () => {
    const bases = instructions.filter((i) => i.startsWith("FROM ")).map((i) => i.split(/\s+/)[1] ?? "");
    expect(bases).toEqual(["node:22.12.0-bookworm-slim", "oven/bun:1.4.4-slim"]);
    // The Bun in the image is the Bun the project pins.
    expect(bases[1]).toContain(`:${pkg.devDependencies.bun}-`);
  });

  test("dependencies come from the lockfile, frozen, runtime only", () => {
    expect(instructions).toContain("RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund");
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
    // What npm ci verifies first: the lock's root agrees with package.json.
    expect(lock.packages[""].dependencies).toEqual(pkg.dependencies);
    expect(lock.packages[""].devDependencies).toEqual(pkg.devDependencies);
  });

  test("test- and benchmark-only packages are not runtime dependencies", () => {
    for (const name of ["playwright-core", "@upstash/kafka", "bullmq"]) {
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.devDependencies[name]).toBeDefined();
    }
  });

  test("every package the shipped code imports is a runtime dependency", () => {
    const transpiler = new Bun.Transpiler({ loader: "ts" });
    const builtin = (spec: string) => spec.startsWith("node:") || spec === "bun" || spec.startsWith("bun:");
    const packageOf = (spec: string) =>
      spec
        .split("/")
        .slice(0, spec.startsWith("@") ? 2 : 1)
        .join("/");
    const missing = shipped.flatMap((file) =>
      transpiler
        .scanImports(readFileSync(join(ROOT, file), "utf8"))
        .map((i) => i.path)
        .filter((spec) => !spec.startsWith(".") && !builtin(spec))
        .filter((spec) => pkg.dependencies[packageOf(spec)] === undefined)
        .map((spec) => `${file}: ${spec}`),
    );
    expect(shipped.length).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });

  test("HEALTHCHECK runs the probe, whose default is the worker's /readyz on its internal port", () => {
    const check = instructions.find((i) => i.startsWith("HEALTHCHECK "));
    expect(check).toEndWith('CMD ["bun", "infrastructure/containers/probe.ts"]');
    expect(readFileSync(join(ROOT, "infrastructure/containers/probe.ts"), "utf8")).toContain(
      `\`http://127.0.0.1:\${process.env.WORKER_INTERNAL_PORT || "${sections.worker.internalPort.default}"}/readyz\``,
    );
  });

  test("only the public port is exposed: `docker run -P` must not publish the internal one", () => {
    expect(instructions.filter((i) => i.startsWith("EXPOSE "))).toEqual([`EXPOSE ${sections.worker.port.default}`]);
  });

  test("the build context holds what the image copies, and no secrets, data, caches or tests", () => {
    expect(copied).toEqual([
      "package.json",
      "package-lock.json",
      "package.json",
      "shared",
      "worker",
      "edge",
      "infrastructure/containers/probe.ts",
    ]);
    for (const source of copied) expect(inContext(source), source).toBe(true);
    for (const secret of [
      ".env",
      ".data/kafka/tls/ca.pem",
      ".cache/aws-tools/bin/checkov",
      "node_modules/sharp/package.json",
    ])
      expect(inContext(secret), secret).toBe(false);
    expect(inContext(".git/config")).toBe(false);
    expect(inContext("worker/generation/offset-tracker.test.ts")).toBe(false);
    expect(inContext("worker/testing/kafka-test-env.ts")).toBe(false);
    expect(inContext("worker/generation/offset-tracker.ts")).toBe(true);
  });
});
