/**
 * The other services deploy.sh asks, answering in the shapes and with the errors their CLI
 * documentation shows: `ec2 describe-subnets` / `describe-security-groups`, `ssm get-parameters`,
 * `secretsmanager describe-secret`, `kafka get-bootstrap-brokers` / `describe-cluster-v2` and
 * `ecs describe-services`.
 */
import type { Args } from "./standin-cloudformation.ts";
import { type AccountState, isoTime, serviceError, usageError } from "./standin-state.ts";

const list = (args: Args, name: string): string[] => {
  const value = args[name];
  if (value === undefined || value === true) throw usageError(`the following arguments are required: --${name}`);
  return Array.isArray(value) ? value : [value];
};

function ec2(state: AccountState, op: string, args: Args) {
  if (op === "describe-subnets") {
    const ids = list(args, "subnet-ids");
    const malformed = ids.find((id) => !/^subnet-[0-9a-f]+$/.test(id));
    if (malformed) throw serviceError(op, "InvalidSubnetID.Malformed", `Invalid id: "${malformed}"`);
    const missing = ids.find((id) => !state.subnets[id]);
    if (missing) throw serviceError(op, "InvalidSubnetID.NotFound", `The subnet ID '${missing}' does not exist`);
    return {
      Subnets: ids.map((id, i) => ({
        AvailabilityZone: state.subnets[id]?.zone,
        AvailabilityZoneId: `euw1-az${i + 1}`,
        AvailableIpAddressCount: 250,
        CidrBlock: `10.0.${i}.0/24`,
        DefaultForAz: false,
        MapPublicIpOnLaunch: false,
        State: "available",
        SubnetId: id,
        VpcId: state.subnets[id]?.vpc,
        OwnerId: state.account,
        SubnetArn: `arn:aws:ec2:${state.region}:${state.account}:subnet/${id}`,
      })),
    };
  }
  if (op === "describe-security-groups") {
    const ids = list(args, "group-ids");
    const missing = ids.find((id) => !state.securityGroups[id]);
    if (missing) throw serviceError(op, "InvalidGroup.NotFound", `The security group '${missing}' does not exist`);
    return {
      SecurityGroups: ids.map((id) => ({
        GroupId: id,
        GroupName: `${id}-name`,
        Description: "application",
        VpcId: state.securityGroups[id]?.vpc,
        OwnerId: state.account,
        IpPermissions: [],
        IpPermissionsEgress: [],
      })),
    };
  }
  throw usageError(`argument operation: Invalid choice: '${op}'`);
}

function ssm(state: AccountState, op: string, args: Args) {
  if (op !== "get-parameters") throw usageError(`argument operation: Invalid choice: '${op}'`);
  const names = list(args, "names");
  if (names.length > 10)
    throw serviceError(
      op,
      "ValidationException",
      "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10",
    );
  const found = names.filter((n) => state.ssm[n] !== undefined);
  return {
    Parameters: found.map((Name) => ({
      Name,
      Type: Name.endsWith("subnets") ? "StringList" : "String",
      Value: state.ssm[Name],
      Version: 1,
      LastModifiedDate: isoTime(state.clock),
      ARN: `arn:aws:ssm:${state.region}:${state.account}:parameter${Name}`,
      DataType: "text",
    })),
    InvalidParameters: names.filter((n) => !found.includes(n)),
  };
}

function secretsmanager(state: AccountState, op: string, args: Args) {
  if (op !== "describe-secret") throw usageError(`argument operation: Invalid choice: '${op}'`);
  const id = String(list(args, "secret-id")[0]);
  const secret = state.secrets[id] ?? Object.values(state.secrets).find((s) => s.arn === id);
  if (!secret) throw serviceError(op, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
  return { ARN: secret.arn, Name: id, LastChangedDate: isoTime(state.clock), VersionIdsToStages: {} };
}

function kafka(state: AccountState, op: string, args: Args) {
  const arn = String(list(args, "cluster-arn")[0]);
  const cluster = state.clusters[arn];
  if (!cluster) throw serviceError(op, "NotFoundException", `The requested resource could not be found: ${arn}`);
  if (op === "get-bootstrap-brokers") {
    // SCRAM on, unauthenticated and TLS-certificate auth off: only the SCRAM string is given.
    const brokers = Array.from(
      { length: cluster.brokers },
      (_, i) => `b-${i + 1}.${cluster.name}.a1b2c3.c2.kafka.${state.region}.amazonaws.com:9096`,
    );
    return { BootstrapBrokerStringSaslScram: brokers.join(",") };
  }
  if (op === "describe-cluster-v2")
    return {
      ClusterInfo: { ClusterArn: arn, ClusterName: cluster.name, ClusterType: "PROVISIONED", State: cluster.state },
    };
  throw usageError(`argument operation: Invalid choice: '${op}'`);
}

function ecs(state: AccountState, op: string, args: Args) {
  if (op !== "describe-services") throw usageError(`argument operation: Invalid choice: '${op}'`);
  const cluster = String(list(args, "cluster")[0]);
  const names = list(args, "services");
  const known = names.filter((n) => state.ecsServices[`${cluster}/${n}`]);
  return {
    services: known.map((serviceName) => {
      const s = state.ecsServices[`${cluster}/${serviceName}`];
      return {
        serviceName,
        status: "ACTIVE",
        desiredCount: s?.desired,
        runningCount: s?.running,
        pendingCount: 0,
        launchType: "FARGATE",
      };
    }),
    failures: names
      .filter((n) => !known.includes(n))
      .map((n) => ({ arn: `arn:aws:ecs:${state.region}:${state.account}:service/${cluster}/${n}`, reason: "MISSING" })),
  };
}

export const SERVICES: Record<string, (state: AccountState, op: string, args: Args) => unknown> = {
  ec2,
  ssm,
  secretsmanager,
  kafka,
  ecs,
};
