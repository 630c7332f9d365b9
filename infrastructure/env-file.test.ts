import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../shared/config/parse-config.ts";
import { ensureEnvFile } from "./env-file.ts";

const parseEnvText = (text: string) =>
  Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

test("first start creates .env with generated secrets that pass validation, and a second run keeps them", () => {
  const path = join(mkdtempSync(join(tmpdir(), "env-")), ".env");
  const done = ensureEnvFile(path);
  expect(done).toContain("generated AUTH_JWT_SECRET");
  const first = readFileSync(path, "utf8");
  expect(statSync(path).mode & 0o077).toBe(0);
  const env = parseEnvText(first);
  const config = parseConfig(env, ["auth", "kafkaRest", "redisRest", "redisBridge", "kafka", "worker", "edge"]);
  expect(config.auth.jwtSecret).toHaveLength(64);

  expect(ensureEnvFile(path)).toEqual([]);
  expect(readFileSync(path, "utf8")).toBe(first);
});

test("a secret emptied by hand is generated again, other edits are kept", () => {
  const path = join(mkdtempSync(join(tmpdir(), "env-")), ".env");
  writeFileSync(path, "WS_PORT=4000\nAUTH_JWT_SECRET=\n");
  expect(ensureEnvFile(path)).toEqual([
    "generated KAFKA_REST_PASSWORD",
    "generated UPSTASH_REDIS_REST_TOKEN",
    "generated REDIS_BRIDGE_PASSWORD",
    "generated AUTH_JWT_SECRET",
  ]);
  const env = parseEnvText(readFileSync(path, "utf8"));
  expect(env.WS_PORT).toBe("4000");
  expect(env.AUTH_JWT_SECRET).toMatch(/^[0-9a-f]{64}$/);
});
