/**
 * No Docker engine runs here, so `docker compose config` cannot check the compose files: they
 * are validated against the Compose Specification's JSON Schema (compose-spec.json, a copy kept
 * in the repo) and held to our own rules (compose-rules.ts), each shown to catch a broken file.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv";
import { edgeFromEnv } from "../../edge/edge-from-env.ts";
import { allVariables, parseConfig } from "../../shared/config/parse-config.ts";
import { entrySections, readinessUrl } from "../entry-config.ts";
import { ensureEnvFile, readEnvFile } from "../env-file.ts";
import { KAFKA_VERSION } from "../kafka/kafka-local.ts";
import { ROOT } from "../paths.ts";
import {
  type ComposeFile,
  type ComposeService,
  fixedHostPortsOnReplicated,
  interpolate,
  loadCompose,
  missingHealthchecks,
  publishedBeyondLoopback,
  readCompose,
  unpinnedImages,
} from "./compose-rules.ts";

const STACK = join(ROOT, "infrastructure/containers/compose.yaml");
const KAFKA_ONLY = join(ROOT, "infrastructure/kafka/docker-compose.kafka.yml");
const compose = loadCompose(STACK);

describe("compose files", () => {
  test("both are valid per the Compose Specification schema kept in the repo", () => {
    // The file names its draft-07 meta-schema by an https URL Ajv does not register; it is draft-07.
    const { $schema: _draft, ...schema } = JSON.parse(
      readFileSync(join(ROOT, "infrastructure/containers/compose-spec.json"), "utf8"),
    );
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    for (const file of [STACK, KAFKA_ONLY]) expect(validate(readCompose(file)) ? [] : validate.errors).toEqual([]);
    // And the schema does reject a broken file.
    expect(validate({ services: { kafka: { image: 3.9, ports: "9092" } } })).toBe(false);
  });

  test("the stack includes Kafka from the one Kafka compose file, at the local broker's version", () => {
    expect(readCompose(STACK).include).toEqual(["../kafka/docker-compose.kafka.yml"]);
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
  });

  test("pipeline services set only variables the pipeline knows, and run files that exist", () => {
    const known = new Set(allVariables().map((v) => v.env));
    const pipelineEnv = Object.keys(compose.services.worker?.environment ?? {});
    expect(pipelineEnv.length).toBeGreaterThan(10);
    expect(pipelineEnv.filter((name) => !known.has(name))).toEqual([]);
    for (const [name, service] of Object.entries(compose.services)) {
      const file = service.command?.[1];
      if (file) expect(Bun.file(join(ROOT, file)).size, `${name}: ${file}`).toBeGreaterThan(0);
    }
  });

  test("workers really scale: replicas from PROCESSING_WORKER_INSTANCES, no fixed host port", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, literally.
    expect(compose.services.worker?.deploy?.replicas).toBe("${PROCESSING_WORKER_INSTANCES:-2}");
    expect(compose.services.worker?.ports).toBeUndefined();
    expect(fixedHostPortsOnReplicated(compose)).toEqual([]);
  });

  test("every image is pinned, every service has a health check, ports are loopback only", () => {
    expect(unpinnedImages(compose)).toEqual([]);
    expect(missingHealthchecks(compose)).toEqual([]);
    expect(publishedBeyondLoopback(compose)).toEqual([]);
  });

  test("Kafka UI: pinned, loopback only, read-only, behind a login whose password must be set", () => {
    const ui = compose.services["kafka-ui"];
    expect(ui?.image).toMatch(/^kafbat\/kafka-ui:v\d+\.\d+\.\d+$/);
    expect(ui?.ports).toEqual(["127.0.0.1:8080:8080"]);
    expect(ui?.environment).toMatchObject({
      KAFKA_CLUSTERS_0_READONLY: "true",
      DYNAMIC_CONFIG_ENABLED: "false",
      AUTH_TYPE: "LOGIN_FORM",
    });
    // `${VAR:?message}`: Compose refuses to start without it, so there is no default password.
    expect(ui?.environment?.SPRING_SECURITY_USER_PASSWORD).toMatch(/^\$\{KAFKA_UI_PASSWORD:\?[^}]+\}$/);
  });
});

describe("the pipeline's settings in the stack", () => {
  // What each container gets from `docker compose --env-file .env`, with the .env `npm start` writes.
  const dotenv = (() => {
    const path = join(mkdtempSync(join(tmpdir(), "compose-env-")), ".env");
    ensureEnvFile(path);
    return readEnvFile(path);
  })();
  const envOf = (service: ComposeService | undefined) =>
    Object.fromEntries(Object.entries(service?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), dotenv)]));
  const roles = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === "bun");

  test("every role's configuration parses from what a fresh .env gives it (the bridge's ACL user included)", () => {
    expect(roles.map(([name]) => name).sort()).toEqual(
      ["edge", "gateway", "history", "ops", "redis-rest", "redis-user", "relay", "topics", "worker"].sort(),
    );
    for (const [name, service] of roles) {
      const file = service.command?.[1] ?? "";
      const env = envOf(service);
      if (file.startsWith("edge/")) {
        const edge = edgeFromEnv(env);
        expect(edge.ok ? "" : edge.problem, name).toBe("");
      } else expect(() => parseConfig(env, entrySections(file)), name).not.toThrow();
    }
  });

  test("health checks probe where each role serves readiness: the worker's internal port, not WS_PORT", () => {
    for (const [name, service] of roles) {
      const expected = readinessUrl(service.command?.[1] ?? "", envOf(service));
      if (expected)
        expect(service.healthcheck?.test, name).toEqual(["CMD", "bun", "infrastructure/containers/probe.ts", expected]);
      else expect(service.restart, `${name} is a one-shot job`).toBe("no");
    }
    expect(String(compose.services.worker?.healthcheck?.test)).toContain(":3002/readyz");
  });

  test("the worker's internal port stays on the stack's network: the edge's WORKER_URL, no published port, not behind the proxy", () => {
    const worker = parseConfig(envOf(compose.services.worker), ["worker"]).worker;
    expect(parseConfig(envOf(compose.services.edge), ["edge"]).edge.workerUrl).toBe(
      `http://worker:${worker.internalPort}`,
    );
    const published = Object.values(compose.services).flatMap((s) => (s.ports ?? []).map((p) => JSON.stringify(p)));
    expect(published.filter((p) => p.includes(String(worker.internalPort)))).toEqual([]);
    const proxy = readFileSync(join(ROOT, "infrastructure/containers/ws-proxy.conf"), "utf8");
    expect(proxy).toContain(`server worker:${worker.port} resolve;`);
    expect(proxy).not.toContain(`worker:${worker.internalPort}`);
  });

  test("the workers' per-address live cap sees each client behind ws-proxy, which overwrites the header it trusts", () => {
    const header = parseConfig(envOf(compose.services.worker), ["worker"]).worker.trustedClientIpHeader;
    expect(header.toLowerCase()).toBe("x-real-ip");
    const proxy = readFileSync(join(ROOT, "infrastructure/containers/ws-proxy.conf"), "utf8");
    // Set from the peer address (never $proxy_add_x_forwarded_for, which keeps what the client sent).
    expect(proxy).toContain("proxy_set_header X-Real-IP $remote_addr;");
    expect(proxy).toContain("proxy_set_header X-Forwarded-For $remote_addr;");
    expect(proxy).not.toContain("$proxy_add_x_forwarded_for");
    expect(proxy).not.toContain("$http_x_");
  });
});

describe("the compose rules catch what they exist for", () => {
  const broken: ComposeFile = {
    services: {
      worker: {
        image: "pixel/pipeline:1",
        deploy: { replicas: 3 },
        ports: ["3001:3001"],
        healthcheck: { test: ["CMD", "true"] },
      },
      scaled: { image: "pixel/pipeline:1", scale: 2, ports: [{ target: 3001, published: 3001, host_ip: "127.0.0.1" }] },
      ui: { image: "kafbat/kafka-ui:latest", ports: ["0.0.0.0:8080:8080"], healthcheck: { disable: true } },
      bare: { image: "redis", ports: ["127.0.0.1:6379:6379"] },
      registry: { image: "localhost:5000/pipeline", healthcheck: { test: ["CMD", "true"] } },
      job: { image: "pixel/pipeline:1", restart: "no" },
      ok: {
        image: "pixel/pipeline@sha256:".concat("a".repeat(64)),
        ports: ["3001"],
        deploy: { replicas: 4 },
        healthcheck: { test: ["CMD", "true"] },
      },
    },
  };

  test("a replicated service with a fixed host port", () => {
    expect(fixedHostPortsOnReplicated(broken)).toEqual([
      'worker: "3001:3001"',
      'scaled: {"target":3001,"published":3001,"host_ip":"127.0.0.1"}',
    ]);
  });

  test("an unpinned or moving tag", () => {
    expect(unpinnedImages(broken)).toEqual([
      "ui: kafbat/kafka-ui:latest",
      "bare: redis",
      "registry: localhost:5000/pipeline",
    ]);
  });

  test("a missing or disabled health check (a job nobody waits for is no exception)", () => {
    expect(missingHealthchecks(broken)).toEqual(["scaled", "ui", "bare", "job"]);
  });

  test("a port published on every interface", () => {
    expect(publishedBeyondLoopback(broken)).toEqual(['worker: "3001:3001"', 'ui: "0.0.0.0:8080:8080"']);
  });

  test("interpolation: a required variable the env file lacks stops the stack, as Compose does", () => {
    const env = { SET: "x", EMPTY: "" };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, literally.
    expect(interpolate("${SET:?need it}/${EMPTY:-fallback}/${UNSET:-3}", env)).toBe("x/fallback/3");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, literally.
    expect(() => interpolate("${EMPTY:?set EMPTY}", env)).toThrow("EMPTY: set EMPTY");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, literally.
    expect(() => interpolate("${REDIS_BRIDGE_PASSWORD:?set it}", env)).toThrow("REDIS_BRIDGE_PASSWORD");
  });
});
