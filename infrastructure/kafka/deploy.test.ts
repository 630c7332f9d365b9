/**
 * deploy.sh against a stand-in `aws` (infrastructure/aws/testing/) that records every call and
 * answers as the AWS CLI documents, errors included; the templates it deploys are the real
 * ones, linted by the real cfn-lint and validated by the stand-in the way CloudFormation
 * validates parameters. No AWS account is involved.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { TOPIC_DEFINITIONS } from "../../shared/topics.ts";
import { ensurePythonTools } from "../aws/python-tools.ts";
import { DEPLOY_SH, type FakeAws, fakeAws, seedContainerTier, seedNetwork } from "../aws/testing/fake-aws.ts";

const DEV = ["-e", "dev", "-v", "vpc-12345678", "-s", "subnet-123,subnet-456", "-g", "sg-789abc"];
const PROD = ["-e", "prod", "-v", "vpc-12345678", "-s", "subnet-123,subnet-456,subnet-789", "-g", "sg-789abc"];
const SLOW = 180_000;

const op = (call: string[]) =>
  call
    .filter((a) => !a.startsWith("--") && a !== "text" && a !== "json")
    .slice(0, 2)
    .join(" ");
const arg = (call: string[], name: string) => call[call.indexOf(`--${name}`) + 1];
const changeSetsOf = (aws: FakeAws, from = 0) =>
  aws
    .calls()
    .slice(from)
    .filter((c) => op(c) === "cloudformation create-change-set");
const parametersOf = (call: string[]) =>
  Object.fromEntries(
    (
      JSON.parse(arg(call, "parameters") ?? "[]") as {
        ParameterKey: string;
        ParameterValue?: string;
        UsePreviousValue?: boolean;
      }[]
    ).map((p) => [p.ParameterKey, p.UsePreviousValue ? ":previous" : p.ParameterValue]),
  );
const liveStacks = (aws: FakeAws) =>
  Object.fromEntries(
    Object.values(aws.account().stacks)
      .filter((s) => s.status !== "DELETE_COMPLETE")
      .map((s) => [s.name, s.status]),
  );

beforeAll(() => ensurePythonTools({ log: () => {} }), 600_000);

test("shellcheck finds nothing in deploy.sh", async () => {
  const proc = Bun.spawn(["shellcheck", DEPLOY_SH], { stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(out).toBe("");
  expect(code).toBe(0);
});

describe("bad arguments are refused before any AWS call", () => {
  test.each([
    [[], "no command given"],
    [["launch", ...DEV], "unknown command: launch"],
    [["deploy", "-v", "vpc-12345678", "-s", "subnet-123,subnet-456", "-g", "sg-789abc"], "-e is required"],
    [["deploy", ...DEV.map((a) => (a === "dev" ? "staging" : a))], "-e must be dev or prod, not 'staging'"],
    [
      ["deploy", ...PROD.slice(0, 4), "-s", "subnet-123,subnet-456", "-g", "sg-789abc"],
      "prod runs 3 brokers, one per subnet: -s needs 3 subnets, got 2",
    ],
    [
      ["deploy", ...DEV.slice(0, 4), "-s", "subnet-123,subnet-456,subnet-789", "-g", "sg-789abc"],
      "dev runs 2 brokers, one per subnet: -s needs 2 subnets, got 3",
    ],
    [["deploy", ...DEV.slice(0, 4), "-s", "subnet-123,subnet-123", "-g", "sg-789abc"], "-s lists a subnet twice"],
    [
      ["deploy", ...DEV.slice(0, 4), "-s", "subnet-123,SUBNET-456", "-g", "sg-789abc"],
      "-s must list subnet ids (subnet-…), not 'SUBNET-456'",
    ],
    [
      ["deploy", ...DEV.map((a) => (a === "vpc-12345678" ? "12345678" : a))],
      "-v must be a VPC id (vpc-…), not '12345678'",
    ],
    [["deploy", ...DEV.slice(0, 6)], "-g must be a security group id (sg-…), not ''"],
    [["deploy", ...DEV, "-x"], "unknown flag: -x"],
    [["deploy", ...DEV, "extra"], "unexpected argument: extra"],
    [["scale", "-e", "prod", "-n", "0"], "-n must be a number of workers from 1 to 6"],
    [["scale", "-e", "prod", "-n", "7"], "-n must be a number of workers from 1 to 6"],
    [["scale", "-e", "prod", "-n", "lots"], "-n must be a number of workers from 1 to 6"],
    [["delete", "-e", "dev", "-v", "vpc-12345678"], "-v does not apply to delete"],
  ])("%p", async (args, message) => {
    const aws = fakeAws(seedNetwork);
    const result = await aws.deploy(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("usage: deploy.sh deploy");
    expect(aws.calls()).toEqual([]);
  });

  test("the scale ceiling is the request topic's partitions", () => {
    const script = Bun.file(DEPLOY_SH).text();
    return expect(script).resolves.toContain(`MAX_WORKERS=${TOPIC_DEFINITIONS.requests.partitions}\n`);
  });
});

describe("a dev environment's life, with the seed's commands", () => {
  const aws = fakeAws((s) => {
    seedNetwork(s);
    seedContainerTier(s, "dev");
  });

  test(
    "deploy: checks the network and settings first, then four stacks, each through a change set",
    async () => {
      const result = await aws.deploy(["deploy", ...DEV, "-y"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const calls = aws.calls();
      const firstChange = calls.findIndex((c) => op(c) === "cloudformation create-change-set");
      expect(calls.slice(0, firstChange).map(op)).toEqual([
        "ec2 describe-subnets",
        "ec2 describe-security-groups",
        "ssm get-parameters",
        "secretsmanager describe-secret",
        "cloudformation describe-stacks",
      ]);
      expect(calls[0]).toContain("subnet-456");
      const changeSets = changeSetsOf(aws);
      expect(changeSets.map((c) => `${arg(c, "stack-name")} ${arg(c, "change-set-type")}`)).toEqual([
        "pixel-studio-dev-kafka CREATE",
        "pixel-studio-dev-storage CREATE",
        "pixel-studio-dev-services CREATE",
        "pixel-studio-dev-monitoring CREATE",
      ]);
      expect(parametersOf(changeSets[0] ?? [])).toEqual({
        Environment: "dev",
        VpcId: "vpc-12345678",
        SubnetIds: "subnet-123,subnet-456",
        AppSecurityGroupId: "sg-789abc",
        BrokerInstanceType: "kafka.t3.small",
      });
      expect(arg(changeSets[0] ?? [], "template-body")).toEndWith("/infrastructure/kafka/msk-cluster.yml");
      const services = parametersOf(changeSets[2] ?? []);
      expect(services.KafkaBrokers).toMatch(/^b-1\.[\w.-]+:9096,b-2\.[\w.-]+:9096$/);
      expect(services).toMatchObject({
        WorkerCount: "2",
        MaxConcurrentGenerations: "4",
        GenerationTimeoutMs: "120000",
      });
      expect(parametersOf(changeSets[3] ?? [])).toMatchObject({
        ServicesDeployed: "true",
        AlarmEmail: "oncall@pixel.example",
      });
      // Each change set is created, awaited, shown, executed and awaited, in that order.
      const flow = calls
        .slice(firstChange)
        .map((c) => `${op(c)}${op(c) === "cloudformation wait" ? ` ${c[c.indexOf("wait") + 1]}` : ""}`);
      expect(
        flow.filter((f) => f !== "cloudformation describe-stacks" && f !== "kafka get-bootstrap-brokers").slice(0, 5),
      ).toEqual([
        "cloudformation create-change-set",
        "cloudformation wait change-set-create-complete",
        "cloudformation describe-change-set",
        "cloudformation execute-change-set",
        "cloudformation wait stack-create-complete",
      ]);
      expect(liveStacks(aws)).toEqual({
        "pixel-studio-dev-kafka": "CREATE_COMPLETE",
        "pixel-studio-dev-storage": "CREATE_COMPLETE",
        "pixel-studio-dev-services": "CREATE_COMPLETE",
        "pixel-studio-dev-monitoring": "CREATE_COMPLETE",
      });
      expect(Object.values(aws.account().clusters)).toEqual([
        { name: "pixel-studio-dev", brokers: 2, state: "ACTIVE" },
      ]);
      expect(result.stdout).toContain(
        "deployed: pixel-studio-dev-kafka pixel-studio-dev-storage pixel-studio-dev-services pixel-studio-dev-monitoring",
      );
    },
    SLOW,
  );

  test(
    "deploy again: nothing changes, every empty change set is deleted",
    async () => {
      const before = aws.calls().length;
      const result = await aws.deploy(["deploy", ...DEV, "-y"]);
      expect(result.code).toBe(0);
      expect(result.stdout.match(/: no changes$/gm)?.length).toBe(4);
      expect(
        aws
          .calls()
          .slice(before)
          .filter((c) => op(c) === "cloudformation execute-change-set"),
      ).toEqual([]);
      expect(changeSetsOf(aws, before).map((c) => arg(c, "change-set-type"))).toEqual([
        "UPDATE",
        "UPDATE",
        "UPDATE",
        "UPDATE",
      ]);
      expect(aws.account().changeSets).toEqual({});
    },
    SLOW,
  );

  test(
    "outputs: .env lines with the SCRAM brokers on 9096 and no password",
    async () => {
      const before = aws.calls().length;
      const result = await aws.deploy(["outputs", "-e", "dev"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^KAFKA_BROKERS=b-1\.[\w.-]+:9096,b-2\.[\w.-]+:9096$/m);
      expect(result.stdout).toContain("\nKAFKA_SSL=true\nKAFKA_SASL_USERNAME=pixel-studio\n");
      expect(result.stdout).toMatch(/^KAFKA_SASL_PASSWORD=$/m);
      expect(result.stdout).toContain("KAFKA_REPLICATION_FACTOR=2\nKAFKA_MIN_INSYNC_REPLICAS=1\n");
      expect(result.stdout).toMatch(/^PUBLIC_IMAGE_URL=https:\/\/d\w+\.cloudfront\.net$/m);
      // The edge's WORKER_URL: the WebSocket host's internal listener (only /internal/* behind it).
      expect(result.stdout).toContain("\n# WORKER_URL=https://ws.dev.pixel.example:8443\n");
      // It never reads the secret's value.
      expect(aws.calls().slice(before).map(op)).not.toContain("secretsmanager get-secret-value");
    },
    SLOW,
  );

  test(
    "status: each stack, the cluster and the services' task counts",
    async () => {
      const result = await aws.deploy(["status", "-e", "dev"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^pixel-studio-dev-kafka\s+CREATE_COMPLETE$/m);
      expect(result.stdout).toMatch(/^MSK cluster\s+ACTIVE$/m);
      expect(result.stdout).toMatch(/^service worker\s+2 running of 2 desired$/m);
    },
    SLOW,
  );

  test(
    "scale -n 4: only WorkerCount changes, through a change set on the previous template",
    async () => {
      const before = aws.calls().length;
      const result = await aws.deploy(["scale", "-e", "dev", "-n", "4", "-y"]);
      expect(result.code).toBe(0);
      const [change] = changeSetsOf(aws, before);
      expect(change).toContain("--use-previous-template");
      const parameters = parametersOf(change ?? []);
      expect(parameters.WorkerCount).toBe("4");
      expect(Object.entries(parameters).filter(([k, v]) => k !== "WorkerCount" && v !== ":previous")).toEqual([]);
      expect(aws.account().stacks["pixel-studio-dev-services"]?.parameters.WorkerCount).toBe("4");
      expect(aws.account().ecsServices["pixel-studio-dev/worker"]).toEqual({ desired: 4, running: 4 });
      // A later deploy keeps what scale set.
      const redeploy = await aws.deploy(["deploy", ...DEV, "-y"]);
      expect(redeploy.code).toBe(0);
      expect(aws.account().stacks["pixel-studio-dev-services"]?.parameters.WorkerCount).toBe("4");
    },
    SLOW,
  );

  test(
    "delete: monitoring, services, storage, kafka; says what it kept",
    async () => {
      const before = aws.calls().length;
      const result = await aws.deploy(["delete", "-e", "dev"]);
      expect(result.code).toBe(0);
      const deleted = aws
        .calls()
        .slice(before)
        .filter((c) => op(c) === "cloudformation delete-stack")
        .map((c) => arg(c, "stack-name"));
      expect(deleted).toEqual([
        "pixel-studio-dev-monitoring",
        "pixel-studio-dev-services",
        "pixel-studio-dev-storage",
        "pixel-studio-dev-kafka",
      ]);
      expect(liveStacks(aws)).toEqual({});
      expect(result.stdout).toMatch(/^kept: the images bucket pixel-studio-dev-storage-imagesbucket-\w+ /m);
      expect(result.stdout).toContain("kept: a final snapshot of the history database");
    },
    SLOW,
  );
});
