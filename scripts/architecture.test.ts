/**
 * The layout rules of DEVELOPERS.md, checked: each vendor library is imported by one wrapper
 * module, and shared/ and edge/ stay free of runtime-specific APIs. (That the edge really runs
 * on Workers, Deno and Bun is shown by tests/edge-runtimes/, and its types by `npm run typecheck`.)
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../infrastructure/paths.ts";

const sources = [
  ...new Bun.Glob("{edge,worker,shared,infrastructure,scripts,bench,tests}/**/*.{ts,tsx}").scanSync(ROOT),
];
const importsOf = (file: string) =>
  [
    ...readFileSync(join(ROOT, file), "utf8").matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/g),
  ].map((m) => m[1] ?? "");
/** Production modules: tests and benchmarks act as outside clients and may use the SDKs directly. */
const importers = (module: (spec: string) => boolean) =>
  sources.filter((f) => !f.endsWith(".test.ts") && !f.startsWith("bench/") && importsOf(f).some(module)).sort();

test.each([
  ["kafkajs", (s: string) => s === "kafkajs" || s.startsWith("kafkajs/"), ["worker/kafka/kafka-client.ts"]],
  ["sharp", (s: string) => s === "sharp", ["worker/imaging/sharp-image.ts"]],
  ["@upstash/*", (s: string) => s.startsWith("@upstash/"), ["edge/upstash-clients.ts"]],
  ["miniflare", (s: string) => s === "miniflare", ["infrastructure/edge-runtimes/workerd-edge.ts"]],
  [
    "jmespath (the AWS CLI stand-in's --query)",
    (s: string) => s === "jmespath",
    ["infrastructure/aws/testing/aws-cli-standin.ts"],
  ],
  ["jose", (s: string) => s === "jose", ["shared/auth/jwt.ts"]],
  ["ipaddr.js", (s: string) => s === "ipaddr.js", ["shared/net/ip-address.ts"]],
  ["standardwebhooks", (s: string) => s === "standardwebhooks", ["worker/webhooks/standard-webhooks.ts"]],
])("%s is imported by its one wrapper module only", (_name, matches, expected) => {
  expect(importers(matches)).toEqual(expected);
});

// Benchmarks may use the SDKs above directly; a library only benchmarks use still has one wrapper.
test.each([
  ["bullmq", (s: string) => s === "bullmq", ["bench/bullmq-side.ts"]],
  ["@platformatic/kafka", (s: string) => s === "@platformatic/kafka", ["bench/platformatic-kafka.ts"]],
])("%s is imported by its one wrapper module only, benchmarks included", (_name, matches, expected) => {
  expect(sources.filter((f) => importsOf(f).some(matches)).sort()).toEqual(expected);
});

/**
 * Bun's and Deno's namespaces, and the Node globals that @cloudflare/workers-types declares (as
 * `any`) for Workers with Node compatibility, which our Worker turns off (`no_nodejs_compat_v2`
 * in wrangler.toml): the edge's type check would let these through.
 */
const RUNTIME_SPECIFIC = /\b(Bun|Deno)\.[a-z]|\b(process|Buffer|global)\.|\bsetImmediate\(/;

test("shared/ and edge/ use Web-standard APIs only", () => {
  const offenders = sources
    .filter(
      (f) =>
        (f.startsWith("shared/") || f.startsWith("edge/")) &&
        !f.endsWith(".test.ts") &&
        !["edge/entry-bun.ts", "edge/entry-deno.ts"].includes(f),
    )
    .filter((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return (
        importsOf(f).some(
          (s) => s.startsWith("node:") || s === "bun" || s.startsWith("../worker") || s.startsWith("../../worker"),
        ) || RUNTIME_SPECIFIC.test(text)
      );
    });
  expect(offenders).toEqual([]);
});
