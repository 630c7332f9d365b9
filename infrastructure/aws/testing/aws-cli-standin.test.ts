/**
 * The stand-in answers as the AWS CLI v2 documents, so deploy.sh's tests mean something: exit
 * codes and error text, text output, --query, waiters, CloudFormation's parameter validation.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../../paths.ts";
import { asText, runCli } from "./aws-cli-standin.ts";
import { fakeAws, seedNetwork } from "./fake-aws.ts";

const MSK = `file://${join(ROOT, "infrastructure/kafka/msk-cluster.yml")}`;
const params = (values: Record<string, string>) =>
  JSON.stringify(Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })));
const DEV = {
  Environment: "dev",
  VpcId: "vpc-12345678",
  SubnetIds: "subnet-123,subnet-456",
  AppSecurityGroupId: "sg-789abc",
};

describe("the AWS CLI stand-in", () => {
  const aws = fakeAws(seedNetwork);
  const cli = (...argv: string[]) => runCli(argv, aws.dir);

  test("a service error: the CLI's sentence on stderr, exit 254, nothing on stdout", () => {
    expect(cli("cloudformation", "describe-stacks", "--stack-name", "nope")).toEqual({
      stdout: "",
      stderr:
        "\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id nope does not exist\n",
      code: 254,
    });
  });

  test("usage errors exit 252, missing credentials 253", () => {
    expect(cli("cloudformaton", "describe-stacks").code).toBe(252);
    expect(cli("cloudformation", "describe-stacks").stderr).toContain(
      "the following arguments are required: --stack-name",
    );
    aws.update((s) => {
      s.noCredentials = true;
    });
    expect(cli("ec2", "describe-subnets", "--subnet-ids", "subnet-123")).toMatchObject({ code: 253 });
    aws.update((s) => {
      s.noCredentials = false;
    });
  });

  test("text output: scalars, None for null, tab-separated rows; --query is JMESPath", () => {
    expect(asText("x")).toBe("x");
    expect(asText(null)).toBe("None");
    expect(asText(["a", "b"])).toBe("a\tb");
    expect(
      asText([
        ["a", null],
        ["b", 1],
      ]),
    ).toBe("a\tNone\nb\t1");
    const out = cli(
      "ec2",
      "describe-subnets",
      "--subnet-ids",
      "subnet-123",
      "subnet-456",
      "--query",
      "Subnets[].[SubnetId,AvailabilityZone]",
      "--output",
      "text",
    );
    expect(out.stdout).toBe("subnet-123\teu-west-1a\nsubnet-456\teu-west-1b\n");
  });

  test("CloudFormation validates parameters against the template when the change set is created", () => {
    const create = (values: Record<string, string>) =>
      cli(
        "cloudformation",
        "create-change-set",
        "--stack-name",
        "s",
        "--change-set-name",
        "c",
        "--change-set-type",
        "CREATE",
        "--template-body",
        MSK,
        "--parameters",
        params(values),
      );
    expect(create({ ...DEV, Environment: "qa" }).stderr).toContain(
      "Parameter 'Environment' must be one of AllowedValues",
    );
    expect(create({ ...DEV, SubnetIds: "subnet-123,subnet-404" }).stderr).toContain(
      "Parameter value subnet-404 for parameter name SubnetIds does not exist",
    );
    expect(create({ Environment: "dev" }).stderr).toContain(
      "Parameters: [VpcId, SubnetIds, AppSecurityGroupId] must have values",
    );
    expect(create({ ...DEV, Brokers: "9" }).stderr).toContain("Parameters: [Brokers] do not exist in the template");
    expect(Object.keys(aws.account().stacks)).toEqual([]);
    expect(create(DEV).code).toBe(0);
    expect(aws.account().stacks.s?.status).toBe("REVIEW_IN_PROGRESS");
  });

  test("waiters: a failed change set or stack exits 255 with the waiter's words", () => {
    aws.update((s) => {
      const only = Object.values(s.changeSets)[0];
      if (only) Object.assign(only, { status: "FAILED", statusReason: "No export named x found" });
    });
    expect(
      cli("cloudformation", "wait", "change-set-create-complete", "--stack-name", "s", "--change-set-name", "c"),
    ).toEqual({
      stdout: "",
      stderr:
        '\nWaiter ChangeSetCreateComplete failed: Waiter encountered a terminal failure state: For expression "Status" we matched expected path: "FAILED"\n',
      code: 255,
    });
    expect(cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "gone").code).toBe(0);
  });
});
