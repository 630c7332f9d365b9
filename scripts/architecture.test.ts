/**
 * The layout rules of DEVELOPERS.md, checked: each vendor library is imported by one wrapper
 * module, shared/ and edge/ stay free of runtime-specific APIs, and the edge bundles for a
 * Workers-like target without Node built-ins.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../infrastructure/paths.ts";

const sources = [...new Bun.Glob("{edge,worker,shared,infrastructure,scripts,bench}/**/*.ts").scanSync(ROOT)];
const importsOf = (file: string) =>
  [
    ...readFileSync(join(ROOT, file), "utf8").matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/g),
  ].map((m) => m[1] ?? "");
/** Production modules: tests and benchmarks act as outside clients and may use the SDKs directly. */
const importers = (module: (spec: string) => boolean) =>
  sources.filter((f) => !f.endsWith(".test.ts") && !f.startsWith("bench/") && importsOf(f).some(module)).sort();

test.each([
  ["kafkajs", (s: string) => s === "kafkajs", ["worker/kafka/kafka-client.ts"]],
  ["sharp", (s: string) => s === "sharp", ["worker/imaging/sharp-image.ts"]],
  ["@upstash/*", (s: string) => s.startsWith("@upstash/"), ["edge/upstash-clients.ts"]],
  [
    "jmespath (the AWS CLI stand-in's --query)",
    (s: string) => s === "jmespath",
    ["infrastructure/aws/testing/aws-cli-standin.ts"],
  ],
])("%s is imported by its one wrapper module only", (_name, matches, expected) => {
  expect(importers(matches)).toEqual(expected);
});

test("shared/ and edge/ use Web-standard APIs only", () => {
  const offenders = sources
    .filter(
      (f) => (f.startsWith("shared/") || f.startsWith("edge/")) && !f.endsWith(".test.ts") && f !== "edge/entry-bun.ts",
    )
    .filter((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return (
        importsOf(f).some(
          (s) => s.startsWith("node:") || s === "bun" || s.startsWith("../worker") || s.startsWith("../../worker"),
        ) || /\bBun\.[a-z]|\bprocess\.(env|exit)/.test(text)
      );
    });
  expect(offenders).toEqual([]);
});

test("the Workers entry bundles for a browser-like runtime with no Node built-ins", async () => {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "edge/entry-workers.ts")],
    target: "browser",
    minify: false,
  });
  expect(result.logs.filter((l) => l.level === "error")).toEqual([]);
  expect(result.success).toBe(true);
  const code = await result.outputs[0]?.text();
  expect(code).not.toMatch(/require\(["']node:|from ["']node:|kafkajs|sharp/);
});
