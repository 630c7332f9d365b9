/**
 * No Docker engine runs here, so `docker compose config` cannot check the compose file: it is
 * validated against the Compose Specification's JSON Schema instead, and against our own config.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { allVariables } from "../../shared/config/parse-config.ts";
import { KAFKA_VERSION } from "../kafka/kafka-local.ts";
import { ROOT } from "../paths.ts";

const compose = Bun.YAML.parse(readFileSync(join(ROOT, "infrastructure/containers/compose.yaml"), "utf8")) as {
  services: Record<string, { image?: string; environment?: Record<string, string>; command?: string[] }>;
};

test("compose.yaml is valid per the Compose Specification schema", () => {
  // The file names its draft-07 meta-schema by an https URL Ajv does not register; it is draft-07.
  const { $schema: _draft, ...schema } = JSON.parse(
    readFileSync(join(ROOT, "../shared/schemas/compose-spec.json"), "utf8"),
  );
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  expect(validate(compose) ? [] : validate.errors).toEqual([]);
  // And the schema does reject a broken file.
  expect(validate({ services: { kafka: { image: 3.9, ports: "9092" } } })).toBe(false);
});

test("it runs the same Kafka version as the local broker, and only variables the pipeline knows", () => {
  expect(compose.services.kafka?.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
  const known = new Set(allVariables().map((v) => v.env));
  const pipelineEnv = Object.keys(compose.services.worker?.environment ?? {});
  expect(pipelineEnv.length).toBeGreaterThan(10);
  expect(pipelineEnv.filter((name) => !known.has(name))).toEqual([]);
});

test("every service command names a file that exists", () => {
  for (const [name, service] of Object.entries(compose.services)) {
    const file = service.command?.[1];
    if (file) expect(Bun.file(join(ROOT, file)).size, `${name}: ${file}`).toBeGreaterThan(0);
  }
});
