/**
 * The container tier's templates (services.yml, storage.yml) against the code they run: every
 * role gets what its entry point requires, secrets only from Secrets Manager, health checks where
 * each role serves readiness (the worker's internal port), drain and idle timeouts that fit the
 * code's own, the internal port behind no public listener, and workers that never outnumber the
 * request topic's partitions.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SYNC_GENERATION_TIMEOUT_MS } from "../../edge/sync-generation.ts";
import { allVariables } from "../../shared/config/parse-config.ts";
import { sections } from "../../shared/config/variables.ts";
import { TOPIC_DEFINITIONS } from "../../shared/topics.ts";
import { WORKER_HTTP_IDLE_TIMEOUT_S } from "../../worker/http/internal-server.ts";
import { workerOpenApiDocument } from "../../worker/http/openapi-document.ts";
import { WEBSOCKET_OPTIONS } from "../../worker/ws/live-service.ts";
import { SSE_KEEPALIVE_MS } from "../../worker/ws/ws-routes.ts";
import { readinessUrl, requiredVariables } from "../entry-config.ts";
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
      expect(
        requiredVariables(c.Command[1] ?? "").filter((n) => !given.has(n)),
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

  test("health checks where each role serves readiness: the worker's on its internal port, never WS_PORT", () => {
    for (const c of mains) {
      const [cmd, bun, probe, url] = c.HealthCheck?.Command ?? [];
      expect([cmd, bun, probe], c.Name).toEqual(["CMD", "bun", "infrastructure/containers/probe.ts"]);
      const [text, vars] = (url as { "Fn::Sub": [string, { Port: unknown }] })["Fn::Sub"];
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, literally.
      const probed = text.replace("${Port}", String(resolve(vars.Port)));
      const env = Object.fromEntries(c.Environment.map((e) => [e.Name, String(resolve(e.Value))]));
      expect(probed, c.Name).toBe(readinessUrl(c.Command[1] ?? "", env) ?? "(no readiness for this role)");
      // The probed port is one the container maps.
      const port = Number(new URL(probed).port);
      expect(
        (c.PortMappings ?? []).map((p) => resolve(p.ContainerPort)),
        c.Name,
      ).toContain(port);
    }
    const worker = mains.find((c) => c.Name === "worker");
    const workerEnv = (name: string) => resolve(worker?.Environment.find((e) => e.Name === name)?.Value);
    expect(workerEnv("WS_PORT")).toBe(mapping("Ports.Role.Worker"));
    expect(workerEnv("WORKER_INTERNAL_PORT")).toBe(mapping("Ports.Role.WorkerInternal"));
    expect(mapping("Ports.Role.WorkerInternal")).not.toBe(mapping("Ports.Role.Worker"));
    // The load balancer sends traffic to the public port but asks readiness on the internal one.
    expect(props(services, "WsTargets")).toMatchObject({
      Port: { "Fn::FindInMap": ["Ports", "Role", "Worker"] },
      HealthCheckPort: { "Fn::FindInMap": ["Ports", "Role", "WorkerInternal"] },
      HealthCheckPath: "/readyz",
    });
    expect(props(services, "WsInternalTargets")).toMatchObject({
      Port: { "Fn::FindInMap": ["Ports", "Role", "WorkerInternal"] },
      HealthCheckPath: "/readyz",
    });
    expect(props(services, "WsInternalTargets").HealthCheckPort).toBeUndefined(); // its traffic port
    expect(props(services, "GatewayTargets").HealthCheckPath).toBe("/readyz");
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
    for (const tg of ["GatewayTargets", "WsTargets", "WsInternalTargets"]) {
      const attributes = props(services, tg).TargetGroupAttributes as { Key: string; Value: unknown }[];
      expect(attributes.find((a) => a.Key === "stickiness.enabled")?.Value).toBe("false");
      expect(resolve(attributes.find((a) => a.Key === "deregistration_delay.timeout_seconds")?.Value)).toBe(
        mapping("Drain.Roles.DeregistrationDelaySeconds"),
      );
    }
  });

  test("idle timeouts: the WebSocket tier outlasts ping, SSE keep-alive and the edge's synchronous wait, and each stays below its servers' own", () => {
    const ws = mapping("Connections.Ws.IdleTimeoutSeconds");
    // Live connections: Bun pings a WebSocket silent for idleTimeout seconds; SSE sends a comment.
    expect(ws).toBeGreaterThan(WEBSOCKET_OPTIONS.idleTimeout);
    expect(WEBSOCKET_OPTIONS.sendPings).toBe(true);
    expect(ws * 1000).toBeGreaterThan(SSE_KEEPALIVE_MS);
    // The internal listener carries a synchronous generation, silent until done: the edge gives up first.
    expect(ws * 1000).toBeGreaterThan(SYNC_GENERATION_TIMEOUT_MS);
    // The load balancer closes idle connections before the workers do, so it never reuses a closed one.
    expect(ws).toBeLessThan(WORKER_HTTP_IDLE_TIMEOUT_S);
    expect(WORKER_HTTP_IDLE_TIMEOUT_S * 1000).toBeGreaterThan(SSE_KEEPALIVE_MS);
    expect(WORKER_HTTP_IDLE_TIMEOUT_S).toBeLessThanOrEqual(255); // Bun's ceiling
    const gatewayKeepAlive = Number(/idleTimeout: (\d+)/.exec(source("worker/gateway/main.ts"))?.[1]);
    expect(gatewayKeepAlive).toBeGreaterThan(0);
    expect(mapping("Connections.Gateway.IdleTimeoutSeconds")).toBeLessThan(gatewayKeepAlive);
  });

  test("the load balancers speak TLS 1.2+ only", () => {
    for (const l of ["GatewayListener", "WsListener", "WsInternalListener"])
      expect(props(services, l)).toMatchObject({ Protocol: "HTTPS", SslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    expect(resolve(props(services, "WsListener").Port)).toBe(443);
    expect(resolve(props(services, "GatewayListener").Port)).toBe(443);
  });

  test("the worker's internal port: no public listener reaches it; the internal listener forwards the edge's routes only (not /internal/*, /metrics or /readyz)", () => {
    const forwards = (r: string) =>
      JSON.stringify(props(services, r))
        .match(/"TargetGroupArn":\{"Ref":"(\w+)"\}/g)
        ?.map((m) => m.replace(/.*"Ref":"(\w+)".*/, "$1")) ?? [];
    const rules = Object.entries(services.Resources).filter(([, r]) => r.Type.endsWith("::ListenerRule"));
    // Everything that forwards to the internal targets, and what it forwards.
    const toInternal = [
      ...["GatewayListener", "WsListener", "WsInternalListener"].filter((l) =>
        forwards(l).includes("WsInternalTargets"),
      ),
      ...rules.filter(([name]) => forwards(name).includes("WsInternalTargets")).map(([name]) => name),
    ];
    expect(toInternal).toEqual(["WsInternalRoutes"]);
    expect(props(services, "WsInternalRoutes")).toMatchObject({
      ListenerArn: { Ref: "WsInternalListener" },
      Conditions: [
        { Field: "path-pattern", PathPatternConfig: { Values: ["/internal/users/*", "/internal/generations"] } },
      ],
    });
    expect(
      rules.filter(([, r]) => JSON.stringify(r.Properties.ListenerArn) === '{"Ref":"WsInternalListener"}'),
    ).toHaveLength(1);
    expect(props(services, "WsInternalListener").DefaultActions).toMatchObject([
      { Type: "fixed-response", FixedResponseConfig: { StatusCode: "404" } },
    ]);
    expect(resolve(props(services, "WsInternalListener").Port)).toBe(mapping("Ports.Listener.Internal"));
    // Every route the workers serve on their internal port that the listener lets through wants
    // the service token; readiness and metrics are not among them.
    const paths = workerOpenApiDocument({ public: { wsUrl: "wss://ws.example", imageUrl: "", studioOrigin: "" } })
      .paths as Record<string, Record<string, { servers?: { url: string }[]; security?: unknown[] }>>;
    const internalRoutes = Object.entries(paths).flatMap(([path, ops]) =>
      Object.values(ops)
        .filter((op) => op.servers?.some((s) => s.url.includes("{port}")))
        .map((op) => ({ path, op })),
    );
    expect([...new Set(internalRoutes.map((r) => r.path))].sort()).toEqual([
      "/internal/generations",
      "/internal/users/{user}/generations",
      "/internal/users/{user}/generations/{id}",
      "/internal/users/{user}/generations/{id}/logs",
      "/metrics",
      "/readyz",
    ]);
    for (const { path, op } of internalRoutes.filter((r) => r.path.startsWith("/internal/"))) {
      expect(op.security, path).toEqual([{ serviceToken: [] }]);
      expect(
        op.servers?.map((server) => server.url),
        path,
      ).toContain(`https://{host}:${mapping("Ports.Listener.Internal")}`);
    }
    // The worker service registers both ports, each with its target group.
    expect(props(services, "WorkerService").LoadBalancers).toEqual([
      {
        ContainerName: "worker",
        ContainerPort: { "Fn::FindInMap": ["Ports", "Role", "Worker"] },
        TargetGroupArn: { Ref: "WsTargets" },
      },
      {
        ContainerName: "worker",
        ContainerPort: { "Fn::FindInMap": ["Ports", "Role", "WorkerInternal"] },
        TargetGroupArn: { Ref: "WsInternalTargets" },
      },
    ]);
    // The edge's WORKER_URL is that listener on PUBLIC_WS_URL's host name.
    expect(JSON.stringify(services.Outputs.EdgeWorkerUrl?.Value)).toContain(
      '"Fn::FindInMap":["Ports","Listener","Internal"]',
    );
  });

  test("security groups: the internet reaches the load balancers' listeners only; the internal port admits its load balancer and the application's group", () => {
    type Rule = { IpProtocol: string; FromPort: unknown; ToPort: unknown; CidrIp?: string };
    const ingress = (sg: string) =>
      (props(services, sg).SecurityGroupIngress as Rule[]).map((r) => resolve(r.FromPort));
    expect(ingress("WsLoadBalancerSecurityGroup")).toEqual([443, mapping("Ports.Listener.Internal")]);
    expect(ingress("GatewayLoadBalancerSecurityGroup")).toEqual([443]);
    const internal = mapping("Ports.Role.WorkerInternal");
    const admitted = Object.values(services.Resources)
      .filter((r) => r.Type === "AWS::EC2::SecurityGroupIngress")
      .map((r) => r.Properties)
      .filter((p) => resolve(p.FromPort) === internal)
      .map((p) => ({ to: resolve(p.ToPort), from: p.SourceSecurityGroupId, cidr: p.CidrIp }));
    expect(admitted).toEqual([
      { to: internal, from: { Ref: "WsLoadBalancerSecurityGroup" }, cidr: undefined },
      { to: internal, from: { Ref: "AppSecurityGroupId" }, cidr: undefined },
    ]);
    const egress = (props(services, "WsLoadBalancerSecurityGroup").SecurityGroupEgress as Rule[]).map((r) =>
      resolve(r.FromPort),
    );
    expect(egress).toEqual([mapping("Ports.Role.Worker"), internal]);
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

  test("security group rule descriptions use only the characters EC2 accepts (cfn-lint checks only the groups' own)", () => {
    const ec2Allowed = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
    for (const path of Object.values(TEMPLATES))
      for (const [name, r] of Object.entries(readTemplate(path).Resources)) {
        if (!r.Type.startsWith("AWS::EC2::SecurityGroup")) continue;
        const rules = [
          r.Properties,
          ...((r.Properties.SecurityGroupIngress ?? []) as Record<string, unknown>[]),
          ...((r.Properties.SecurityGroupEgress ?? []) as Record<string, unknown>[]),
        ];
        for (const rule of rules)
          if (typeof rule.Description === "string") expect(rule.Description, `${path} ${name}`).toMatch(ec2Allowed);
      }
  });

  test("every template fits CloudFormation's 51,200-byte --template-body limit", () => {
    for (const path of Object.values(TEMPLATES)) expect(Bun.file(join(ROOT, path)).size, path).toBeLessThan(51_200);
  });
});
