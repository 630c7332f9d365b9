/**
 * The pretend AWS account behind the stand-in `aws` command (aws-cli-standin.ts): one JSON
 * file a test seeds (subnets, settings, secrets, failures to inject) and then reads back
 * (stacks, change sets). Every stand-in process loads it, acts, and saves it.
 */
import { readFileSync, writeFileSync } from "node:fs";

export interface StackEvent {
  LogicalResourceId: string;
  ResourceType: string;
  ResourceStatus: string;
  ResourceStatusReason?: string;
}

export interface Stack {
  id: string;
  name: string;
  status: string;
  templateBody: string;
  parameters: Record<string, string>;
  outputs: { OutputKey: string; OutputValue: string; Description?: string; ExportName?: string }[];
  /** Export names this stack's template imports (deletion of their exporters is refused). */
  imports: string[];
  physicalIds: Record<string, string>;
  /** MSK clusters and ECS services (cluster/service) this stack made, gone with it. */
  owns: { clusters: string[]; services: string[] };
  events: StackEvent[];
  createdAt: number;
  updatedAt?: number;
}

export interface ChangeSet {
  id: string;
  name: string;
  stackName: string;
  type: "CREATE" | "UPDATE";
  status: "CREATE_COMPLETE" | "FAILED";
  statusReason?: string;
  templateBody: string;
  parameters: Record<string, string>;
  capabilities: string[];
  changes: { Action: string; LogicalResourceId: string; ResourceType: string; Replacement?: string }[];
  createdAt: number;
}

export interface AccountState {
  region: string;
  account: string;
  /** The CLI finds no credentials: every call exits 253. */
  noCredentials?: boolean;
  subnets: Record<string, { vpc: string; zone: string }>;
  securityGroups: Record<string, { vpc: string }>;
  /** SSM Parameter Store: name → value. */
  ssm: Record<string, string>;
  /** Secrets Manager secrets by name (values are never needed by the code under test). */
  secrets: Record<string, { arn: string }>;
  stacks: Record<string, Stack>;
  changeSets: Record<string, ChangeSet>;
  exports: Record<string, { value: string; stack: string }>;
  clusters: Record<string, { name: string; brokers: number; state: string }>;
  ecsServices: Record<string, { desired: number; running: number }>;
  /** Failures to inject, by stack name: a resource and the reason CloudFormation gives. */
  failOnExecute: Record<string, { resource: string; type: string; reason: string }>;
  failOnDelete: Record<string, { resource: string; type: string; reason: string }>;
  clock: number;
}

export function emptyAccount(): AccountState {
  return {
    region: "eu-west-1",
    account: "123456789012",
    subnets: {},
    securityGroups: {},
    ssm: {},
    secrets: {},
    stacks: {},
    changeSets: {},
    exports: {},
    clusters: {},
    ecsServices: {},
    failOnExecute: {},
    failOnDelete: {},
    clock: Date.UTC(2025, 0, 1),
  };
}

export const loadAccount = (path: string): AccountState => JSON.parse(readFileSync(path, "utf8")) as AccountState;
export const saveAccount = (path: string, state: AccountState) => writeFileSync(path, JSON.stringify(state, null, 1));

/** An error the AWS CLI v2 reports: exit 254 for service errors, 252 for usage, 253 for config. */
export class CliError extends Error {
  constructor(
    readonly stderr: string,
    readonly exitCode: number,
  ) {
    super(stderr);
  }
}

const pascal = (operation: string) => operation.replace(/(^|-)(\w)/g, (_, _dash, c: string) => c.toUpperCase());

/** A service's error reply, worded as the CLI prints it. */
export function serviceError(operation: string, code: string, message: string): CliError {
  return new CliError(
    `\nAn error occurred (${code}) when calling the ${pascal(operation)} operation: ${message}\n`,
    254,
  );
}

export function usageError(message: string): CliError {
  return new CliError(
    `\nusage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\nTo see help text, you can run:\n\n  aws help\n\naws: error: ${message}\n`,
    252,
  );
}

export function waiterFailure(waiter: string, detail: string): CliError {
  return new CliError(`\nWaiter ${waiter} failed: Waiter encountered a terminal failure state: ${detail}\n`, 255);
}

export const isoTime = (at: number) => new Date(at).toISOString().replace("Z", "+00:00");
export const tick = (state: AccountState) => (state.clock += 1000);
export const shortId = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);
