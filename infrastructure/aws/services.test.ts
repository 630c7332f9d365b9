/**
 * The container tier's templates (services.yml, storage.yml) against the code they run: every
 * role gets what its entry point requires, secrets only from Secrets Manager, health checks on
 * /readyz, drain and idle timeouts that fit the code's own, and workers that never outnumber
 * the request topic's partitions.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { allVariables } from "../../shared/config/parse-config.ts";
import { sections } from "../../shared/config/variables.ts";
import { TOPIC_DEFINITIONS } from "../../shared/topics.ts";
import { ROOT } from "../paths.ts";
import { readTemplate, TEMPLATES, type Template } from "./template-checks.ts";

type Container = {
  Name: string;
  Image: unknown;
  Command: string[];
  Essential: boolean;
  Environment: { Name: string; Value: unknown }[];
  Secrets: { Name: string; ValueFrom: unknown }[];
  HealthCheck?: { Command: unknown[] };
  PortMappings?: { ContainerPort: unknown }[];
  DependsOn?: unknown[];
};
const services = readTemplate(TEMPLATES.services);
const storage = readTemplate(TEMPLATES.storage);
const props = (t: Template, name: string) => t.Resources[name]?.Properties as Record<string, unknown>;
const mapping = (path: string): number => {
  const [map, first, second] = path.split(".");
  return services.Mappings[map ?? ""]?.[first ?? ""]?.[second ?? ""] as number;
};
const source = (file: string) => readFileSync(join(ROOT, file), "utf8");

const tasks = Object.entries(services.Resources).filter(([, r]) => r.Type === "AWS::ECS::TaskDefinition");
const containers = tasks.flatMap(([task, r]) =>
  (r.Properties.ContainerDefinitions as Container[]).map((c) => ({ task, ...c })),
);
const mains = containers.filter((c) => c.Essential);
/** The value a mapping lookup or a literal names, for ports and the like. */
const resolve = (v: unknown): unknown => {
  const find = (v as { "Fn::FindInMap"?: string[] })?.["Fn::FindInMap"];
  return find ? services.Mappings[find[0] ?? ""]?.[find[1] ?? ""]?.[find[2] ?? ""] : v;
};

describe("the container tier", () => {
  test("one ECS service per role, all from the one image", () => {
    const roles = Object.values(services.Resources)
      .filter((r) => r.Type === "AWS::ECS::Service")
      .map((r) => r.Properties.ServiceName);
    expect(roles).toEqual(["worker", "gateway", "relay", "history"]);
    expect(new Set(containers.map((c) => JSON.stringify(c.Image)))).toEqual(
      new Set([JSON.stringify({ Ref: "ContainerImage" })]),
    );
    for (const c of containers)
      expect(Bun.file(join(ROOT, c.Command[1] ?? "")).size, c.Command.join(" ")).toBeGreaterThan(0);
  });

  test("workers: desired count and minimum from WorkerCount, at most the request topic's partitions", () => {
    const partitions = TOPIC_DEFINITIONS.requests.partitions;
    expect(mapping("Workers.Scaling.MaxCount")).toBeLessThanOrEqual(partitions);
    expect(services.Parameters.WorkerCount?.MaxValue).toBeLessThanOrEqual(partitions);
    expect(props(services, "WorkerScaling")).toMatchObject({
      MinCapacity: { Ref: "WorkerCount" },
      MaxCapacity: { "Fn::FindInMap": ["Workers", "Scaling", "MaxCount"] },
    });
    expect(props(services, "WorkerService").DesiredCount).toEqual({ Ref: "WorkerCount" });
  });

  test("workers scale on the consumer group's lag on the request topic", () => {
    expect(services.Mappings.Workers?.Scaling).toMatchObject({
      ConsumerGroup: sections.kafka.consumerGroup.default,
      RequestTopic: TOPIC_DEFINITIONS.requests.name,
    });
    const policy = JSON.stringify(props(services, "WorkerScalingOnLag"));
    expect(policy).toContain('"MetricName":"SumOffsetLag"');
    expect(policy).toContain('"TargetValue":{"Ref":"MaxConcurrentGenerations"}');
  });

  test("every role's entry point gets each variable it requires, and only variables the pipeline knows", () => {
    const known = new Set(allVariables().map((v) => v.env));
    for (const c of containers) {
      const given = new Set([...c.Environment.map((e) => e.Name), ...c.Secrets.map((s) => s.Name)]);
      expect(
        [...given].filter((n) => !known.has(n)),
        c.Name,
      ).toEqual([]);
      const names = /configOrExit\(process\.env, \[([^\]]*)\]\)/.exec(source(c.Command[1] ?? ""))?.[1];
      expect(names, c.Command[1]).toBeDefined();
      const required = (names ?? "")
        .split(",")
        .map((n) => n.trim().replaceAll('"', ""))
        .flatMap((section) => Object.values(sections[section as keyof typeof sections] ?? {}))
        .filter((v) => v.default === undefined)
        .map((v) => v.env);
      expect(
        required.filter((n) => !given.has(n)),
        c.Name,
      ).toEqual([]);
      expect(c.Environment.find((e) => e.Name === "KAFKA_SSL")?.Value).toBe("true");
      expect(c.Secrets.map((s) => s.Name)).toContain("KAFKA_SASL_PASSWORD");
    }
  });

  test("secrets come from Secrets Manager only, never as plain environment", () => {
    const secret = new Set([
      ...allVariables()
        .filter((v) => v.secret)
        .map((v) => v.env),
      "REDIS_URL",
      "DATABASE_URL",
    ]);
    for (const c of containers)
      expect(
        c.Environment.filter((e) => secret.has(e.Name)).map((e) => e.Name),
        c.Name,
      ).toEqual([]);
    expect(Object.values(services.Resources).some((r) => r.Type.startsWith("AWS::ElastiCache::"))).toBe(false);
  });

  test("health checks on /readyz: every role's container and both target groups", () => {
    for (const c of mains) {
      const [cmd, bun, probe, url] = c.HealthCheck?.Command ?? [];
      expect([cmd, bun, probe], c.Name).toEqual(["CMD", "bun", "infrastructure/containers/probe.ts"]);
      const sub = (url as { "Fn::Sub": [string, { Port: unknown }] })["Fn::Sub"];
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, literally.
      expect(sub[0]).toBe("http://127.0.0.1:${Port}/readyz");
      const port = resolve(sub[1].Port);
      const listens = [
        ...(c.PortMappings ?? []).map((p) => resolve(p.ContainerPort)),
        ...c.Environment.map((e) => resolve(e.Value)),
      ];
      expect(listens, c.Name).toContain(port);
    }
    for (const tg of ["GatewayTargets", "WsTargets"]) expect(props(services, tg).HealthCheckPath).toBe("/readyz");
    expect(source("infrastructure/containers/Dockerfile")).toContain("COPY infrastructure/containers/probe.ts ");
  });

  test("draining: stop timeout above SHUTDOWN_GRACE_MS, deregistration delay at least it, no stickiness", () => {
    const grace = mapping("Drain.Roles.ShutdownGraceMs");
    expect(mapping("Drain.Roles.StopTimeoutSeconds") * 1000).toBeGreaterThan(grace);
    expect(mapping("Drain.Roles.StopTimeoutSeconds")).toBeLessThanOrEqual(120); // Fargate's ceiling
    expect(mapping("Drain.Roles.DeregistrationDelaySeconds") * 1000).toBeGreaterThanOrEqual(grace);
    const worker = mains.find((c) => c.Name === "worker");
    expect(resolve(worker?.Environment.find((e) => e.Name === "SHUTDOWN_GRACE_MS")?.Value)).toBe(grace);
    for (const c of mains)
      expect(JSON.stringify(c), c.Name).toContain(
        '"StopTimeout":{"Fn::FindInMap":["Drain","Roles","StopTimeoutSeconds"]}',
      );
    for (const tg of ["GatewayTargets", "WsTargets"]) {
      const attributes = props(services, tg).TargetGroupAttributes as { Key: string; Value: unknown }[];
      expect(attributes.find((a) => a.Key === "stickiness.enabled")?.Value).toBe("false");
      expect(resolve(attributes.find((a) => a.Key === "deregistration_delay.timeout_seconds")?.Value)).toBe(
        mapping("Drain.Roles.DeregistrationDelaySeconds"),
      );
    }
  });

  test("idle timeouts: the WebSocket tier outlasts the code's ping and SSE keep-alive; the gateway's is below its own", () => {
    const ping = Number(/idleTimeout: (\d+), sendPings: true/.exec(source("worker/ws/live-service.ts"))?.[1]);
    const keepalive = Number(
      /SSE_KEEPALIVE_MS = ([\d_]+)/.exec(source("worker/ws/ws-routes.ts"))?.[1]?.replaceAll("_", ""),
    );
    const gatewayKeepAlive = Number(/idleTimeout: (\d+)/.exec(source("worker/gateway/main.ts"))?.[1]);
    expect([ping, keepalive, gatewayKeepAlive].every((n) => n > 0)).toBe(true);
    expect(mapping("Connections.Ws.IdleTimeoutSeconds")).toBeGreaterThan(ping);
    expect(mapping("Connections.Ws.IdleTimeoutSeconds") * 1000).toBeGreaterThan(keepalive);
    expect(mapping("Connections.Gateway.IdleTimeoutSeconds")).toBeLessThan(gatewayKeepAlive);
  });

  test("the load balancers speak TLS 1.2+ only, and the workers' /metrics is not published", () => {
    for (const l of ["GatewayListener", "WsListener"])
      expect(props(services, l)).toMatchObject({
        Protocol: "HTTPS",
        Port: 443,
        SslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      });
    expect(JSON.stringify(props(services, "WsHideMetrics"))).toContain('"Values":["/metrics","/metrics/*"]');
  });

  test("images in a private bucket read through CloudFront; the history in encrypted, private PostgreSQL over TLS", () => {
    expect(props(storage, "ImagesBucket").PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props(storage, "Database")).toMatchObject({
      Engine: "postgres",
      StorageEncrypted: true,
      PubliclyAccessible: false,
    });
    expect(JSON.stringify(props(storage, "DatabaseUrlSecret"))).toContain("?sslmode=require");
  });
});

describe("the stacks fit together", () => {
  test("every import is exported by a stack deployed before it", () => {
    const names = (t: Template, key: "Fn::ImportValue" | "Export") =>
      [...JSON.stringify(t).matchAll(new RegExp(`"${key}":\\{"(?:Name":\\{")?Fn::Sub":"([^"]+)"`, "g"))].map(
        (m) => m[1],
      );
    const order = Object.values(TEMPLATES).map((path) => readTemplate(path));
    expect(order.map((t) => names(t, "Fn::ImportValue").length > 0)).toEqual([false, false, true, true]);
    order.forEach((t, i) => {
      const earlier = new Set(order.slice(0, i).flatMap((e) => names(e, "Export")));
      expect(names(t, "Fn::ImportValue").filter((n) => !earlier.has(n))).toEqual([]);
    });
  });

  test("every template fits CloudFormation's 51,200-byte --template-body limit", () => {
    for (const path of Object.values(TEMPLATES)) expect(Bun.file(join(ROOT, path)).size, path).toBeLessThan(51_200);
  });
});
