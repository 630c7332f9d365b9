/**
 * deploy.sh when things are not as they should be: prod's extra care, a missing or half-made
 * container tier, a network that does not fit, AWS refusing or failing part-way. Each failure
 * says what failed and leaves nothing behind that it does not report. Stand-in `aws` as in
 * deploy.test.ts.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { ensurePythonTools } from "../aws/python-tools.ts";
import { type FakeAws, fakeAws, seedContainerTier, seedNetwork } from "../aws/testing/fake-aws.ts";

const DEV = ["-e", "dev", "-v", "vpc-12345678", "-s", "subnet-123,subnet-456", "-g", "sg-789abc"];
const PROD = ["-e", "prod", "-v", "vpc-12345678", "-s", "subnet-123,subnet-456,subnet-789", "-g", "sg-789abc"];
const SLOW = 180_000;

const op = (call: string[]) =>
  call
    .filter((a) => !a.startsWith("--") && a !== "text" && a !== "json")
    .slice(0, 2)
    .join(" ");
const mutating = (aws: FakeAws, from = 0) =>
  aws
    .calls()
    .slice(from)
    .map(op)
    .filter((o) => /create-change-set|execute-change-set|delete-stack/.test(o));
const liveStacks = (aws: FakeAws) =>
  Object.fromEntries(
    Object.values(aws.account().stacks)
      .filter((s) => s.status !== "DELETE_COMPLETE")
      .map((s) => [s.name, s.status]),
  );
const parametersOf = (aws: FakeAws, stack: string) => aws.account().stacks[stack]?.parameters ?? {};

beforeAll(() => ensurePythonTools({ log: () => {} }), 600_000);

describe("prod", () => {
  const aws = fakeAws((s) => {
    seedNetwork(s);
    seedContainerTier(s, "prod");
  });

  test(
    "the seed's prod command: three brokers, and the seed's production settings",
    async () => {
      const result = await aws.deploy(["deploy", ...PROD, "-y"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(Object.values(aws.account().clusters)).toEqual([
        { name: "pixel-studio-prod", brokers: 3, state: "ACTIVE" },
      ]);
      expect(parametersOf(aws, "pixel-studio-prod-services")).toMatchObject({
        WorkerCount: "5",
        MaxConcurrentGenerations: "20",
        GenerationTimeoutMs: "300000",
      });
      const outputs = await aws.deploy(["outputs", "-e", "prod"]);
      expect(outputs.stdout).toContain(
        "KAFKA_REPLICATION_FACTOR=3\nKAFKA_MIN_INSYNC_REPLICAS=2\nPROCESSING_WORKER_INSTANCES=5\n",
      );
    },
    SLOW,
  );

  test(
    "delete without confirmation is refused before any AWS call; -y confirms",
    async () => {
      const before = aws.calls().length;
      const refused = await aws.deploy(["delete", "-e", "prod"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("no terminal to confirm on: pass -y");
      expect(refused.stderr).toContain("prod was not deleted (no confirmation).");
      expect(aws.calls().length).toBe(before);
      expect(Object.keys(liveStacks(aws))).toHaveLength(4);
      const confirmed = await aws.deploy(["delete", "-e", "prod", "-y"]);
      expect(confirmed.code).toBe(0);
      expect(liveStacks(aws)).toEqual({});
    },
    SLOW,
  );
});

describe("the container tier's settings", () => {
  test(
    "none at all: the Kafka cluster and its alarms only, saying so",
    async () => {
      const aws = fakeAws(seedNetwork);
      const result = await aws.deploy(["deploy", ...DEV, "-y"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("== container tier not configured");
      expect(liveStacks(aws)).toEqual({
        "pixel-studio-dev-kafka": "CREATE_COMPLETE",
        "pixel-studio-dev-monitoring": "CREATE_COMPLETE",
      });
      expect(parametersOf(aws, "pixel-studio-dev-monitoring").ServicesDeployed).toBe("false");
    },
    SLOW,
  );

  test(
    "half of them: refused before any change, naming what is missing",
    async () => {
      const aws = fakeAws((s) => {
        seedNetwork(s);
        seedContainerTier(s, "dev");
        delete s.secrets["pixel-studio/dev/app"];
        delete s.ssm["/pixel-studio/dev/certificate-arn"];
      });
      const result = await aws.deploy(["deploy", ...DEV, "-y"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        "the container tier is half configured; missing: /pixel-studio/dev/certificate-arn secret pixel-studio/dev/app. Nothing was changed.",
      );
      expect(mutating(aws)).toEqual([]);
    },
    SLOW,
  );
});

describe("a network that does not fit is refused before any change", () => {
  test.each([
    ["a subnet in another VPC", "subnet-123,subnet-def", "subnet subnet-def is in vpc-87654321, not in vpc-12345678"],
    [
      "two subnets in one zone",
      "subnet-123,subnet-abc",
      "the subnets share Availability Zones (eu-west-1a eu-west-1a )",
    ],
    ["a subnet that does not exist", "subnet-123,subnet-999", "The subnet ID 'subnet-999' does not exist"],
  ])(
    "%s",
    async (_what, subnets, message) => {
      const aws = fakeAws(seedNetwork);
      const result = await aws.deploy([
        "deploy",
        "-e",
        "dev",
        "-v",
        "vpc-12345678",
        "-s",
        subnets,
        "-g",
        "sg-789abc",
        "-y",
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(message);
      expect(mutating(aws)).toEqual([]);
    },
    SLOW,
  );

  test(
    "a security group of another VPC",
    async () => {
      const aws = fakeAws(seedNetwork);
      const result = await aws.deploy(["deploy", ...DEV.slice(0, 6), "-g", "sg-000fff", "-y"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        "security group sg-000fff is in vpc-87654321, not in vpc-12345678. Nothing was changed.",
      );
      expect(mutating(aws)).toEqual([]);
    },
    SLOW,
  );

  test(
    "no AWS credentials: the CLI's own words, nothing changed",
    async () => {
      const aws = fakeAws((s) => {
        seedNetwork(s);
        s.noCredentials = true;
      });
      const result = await aws.deploy(["deploy", ...DEV, "-y"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("checking the subnets failed (exit 253): Unable to locate credentials.");
      expect(mutating(aws)).toEqual([]);
    },
    SLOW,
  );
});

describe("failures part-way", () => {
  test(
    "a stack that fails to create: what failed, what is left, and the next deploy says to delete it",
    async () => {
      const aws = fakeAws((s) => {
        seedNetwork(s);
        seedContainerTier(s, "dev");
        s.failOnExecute["pixel-studio-dev-services"] = {
          resource: "WorkerService",
          type: "AWS::ECS::Service",
          reason:
            "Resource handler returned message: Invalid request provided: CreateService error: Unable to assume the service linked role.",
        };
      });
      const result = await aws.deploy(["deploy", ...DEV, "-y"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("what failed in pixel-studio-dev-services:");
      expect(result.stderr).toMatch(
        /WorkerService\tCREATE_FAILED\tResource handler returned message: .*service linked role\./,
      );
      expect(result.stderr).toContain(
        "pixel-studio-dev-services was not deployed; CloudFormation rolled it back (status ROLLBACK_COMPLETE).",
      );
      expect(liveStacks(aws)).toEqual({
        "pixel-studio-dev-kafka": "CREATE_COMPLETE",
        "pixel-studio-dev-storage": "CREATE_COMPLETE",
        "pixel-studio-dev-services": "ROLLBACK_COMPLETE",
      });
      const again = await aws.deploy(["deploy", ...DEV, "-y"]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(
        "pixel-studio-dev-services is ROLLBACK_COMPLETE after a failed create; delete it first",
      );
      const status = await aws.deploy(["status", "-e", "dev"]);
      expect(status.code).toBe(1);
      expect(status.stdout).toMatch(/^pixel-studio-dev-services\s+ROLLBACK_COMPLETE$/m);
    },
    SLOW,
  );

  test(
    "a change set nobody confirms is deleted with the empty stack made for it",
    async () => {
      const aws = fakeAws(seedNetwork);
      const result = await aws.deploy(["deploy", ...DEV]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        "no terminal to confirm on: pass -y to Apply these changes to pixel-studio-dev-kafka",
      );
      expect(result.stderr).toContain(
        "not applied; the change set was deleted and pixel-studio-dev-kafka is as it was.",
      );
      expect(mutating(aws)).toEqual(["cloudformation create-change-set", "cloudformation delete-stack"]);
      expect(liveStacks(aws)).toEqual({});
      expect(aws.account().changeSets).toEqual({});
    },
    SLOW,
  );

  test(
    "a stack that cannot be deleted stops the delete, naming why, and keeps what comes after it",
    async () => {
      const aws = fakeAws((s) => {
        seedNetwork(s);
        seedContainerTier(s, "dev");
      });
      expect((await aws.deploy(["deploy", ...DEV, "-y"])).code).toBe(0);
      aws.update((s) => {
        s.failOnDelete["pixel-studio-dev-storage"] = {
          resource: "ImagesDistribution",
          type: "AWS::CloudFront::Distribution",
          reason: "The distribution you are trying to delete has not been disabled.",
        };
      });
      const result = await aws.deploy(["delete", "-e", "dev"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /ImagesDistribution\tDELETE_FAILED\tThe distribution you are trying to delete has not been disabled\./,
      );
      expect(result.stderr).toContain(
        "pixel-studio-dev-storage could not be deleted (status DELETE_FAILED); the stacks after it were left as they are.",
      );
      expect(liveStacks(aws)).toEqual({
        "pixel-studio-dev-storage": "DELETE_FAILED",
        "pixel-studio-dev-kafka": "CREATE_COMPLETE",
      });
    },
    SLOW,
  );
});
