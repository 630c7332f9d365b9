/**
 * A stand-in for the AWS CLI v2 (`aws`), for testing deploy.sh without an AWS account. It
 * records every call, keeps a pretend account in a JSON file (standin-state.ts), and answers
 * as the CLI documents: JSON or text output, `--query` in JMESPath (the CLI's own language,
 * same library family), `file://` arguments, service errors on stderr with exit 254, usage
 * errors 252, missing credentials 253, waiter failures 255.
 *
 * Run as `bun aws-cli-standin.ts <aws arguments>` with AWS_STANDIN_DIR holding account.json;
 * calls go to calls.jsonl there. fake-aws.ts puts an `aws` on PATH that does this.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { search } from "jmespath";
import { type Args, cloudformation } from "./standin-cloudformation.ts";
import { SERVICES } from "./standin-services.ts";
import { CliError, loadAccount, saveAccount, usageError } from "./standin-state.ts";

const GLOBAL_WITH_VALUE = new Set([
  "output",
  "query",
  "region",
  "profile",
  "color",
  "endpoint-url",
  "cli-read-timeout",
]);
const GLOBAL_FLAGS = new Set(["no-cli-pager", "debug", "no-paginate", "no-verify-ssl"]);

export interface ParsedCall {
  service: string;
  operation: string;
  rest: string[];
  args: Args;
  output: string;
  query?: string;
}

/** `aws [globals] <service> <operation> [positional…] [--name value…]`, globals anywhere. */
export function parseCall(argv: string[]): ParsedCall {
  const positional: string[] = [];
  const args: Args = {};
  let output = "json";
  let query: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? "";
    if (!token.startsWith("--")) {
      positional.push(token);
      continue;
    }
    const name = token.slice(2);
    if (GLOBAL_FLAGS.has(name)) continue;
    const values: string[] = [];
    while (i + 1 < argv.length && !(argv[i + 1] ?? "").startsWith("--")) values.push(argv[++i] ?? "");
    if (GLOBAL_WITH_VALUE.has(name)) {
      if (values.length !== 1) throw usageError(`argument --${name}: expected one argument`);
      if (name === "output") output = values[0] ?? "json";
      if (name === "query") query = values[0];
      continue;
    }
    const read = values.map((v) => (v.startsWith("file://") ? readParamFile(name, v.slice(7)) : v));
    args[name] = read.length === 0 ? true : read.length === 1 ? (read[0] ?? "") : read;
  }
  const [service = "", operation = "", ...rest] = positional;
  if (!["json", "text", "table", "yaml"].includes(output))
    throw usageError(`argument --output: Invalid choice: '${output}'`);
  return { service, operation, rest, args, output, ...(query ? { query } : {}) };
}

function readParamFile(name: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(
      `\nError parsing parameter '--${name}': Unable to load paramfile file://${path}: ${(error as Error).message}\n`,
      252,
    );
  }
}

/** The CLI's text output: scalars as they are, None for null, lists tab-separated, rows per line. */
export function asText(value: unknown): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return "None";
    if (typeof v === "object")
      throw new Error("stand-in: text output of an object is not modelled; query scalars or lists");
    return String(v);
  };
  if (Array.isArray(value)) {
    if (value.length === 0) return "";
    if (value.every((v) => Array.isArray(v)))
      return value.map((row) => (row as unknown[]).map(cell).join("\t")).join("\n");
    return value.map(cell).join("\t");
  }
  return cell(value);
}

export function runCli(argv: string[], dir: string): { stdout: string; stderr: string; code: number } {
  appendFileSync(join(dir, "calls.jsonl"), `${JSON.stringify(argv)}\n`);
  const statePath = join(dir, "account.json");
  const state = loadAccount(statePath);
  try {
    if (state.noCredentials)
      throw new CliError(
        '\nUnable to locate credentials. You can configure credentials by running "aws configure".\n',
        253,
      );
    const call = parseCall(argv);
    const handler = call.service === "cloudformation" ? null : SERVICES[call.service];
    if (call.service !== "cloudformation" && !handler)
      throw usageError(`argument command: Invalid choice: '${call.service}'`);
    const result = handler
      ? handler(state, call.operation, call.args)
      : cloudformation(state, call.operation, call.args, call.rest);
    saveAccount(statePath, state);
    const shown = call.query ? search(result as never, call.query) : result;
    const empty = result !== null && typeof result === "object" && Object.keys(result).length === 0 && !call.query;
    if (empty) return { stdout: "", stderr: "", code: 0 };
    const stdout = call.output === "text" ? `${asText(shown)}\n` : `${JSON.stringify(shown, null, 4)}\n`;
    return { stdout, stderr: "", code: 0 };
  } catch (error) {
    // A refused call changes nothing in the account: the state is not saved.
    if (error instanceof CliError) {
      return { stdout: "", stderr: error.stderr, code: error.exitCode };
    }
    throw error;
  }
}

if (import.meta.main) {
  const dir = process.env.AWS_STANDIN_DIR;
  if (!dir) {
    console.error("aws stand-in: AWS_STANDIN_DIR is not set");
    process.exit(255);
  }
  const { stdout, stderr, code } = runCli(process.argv.slice(2), dir);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exit(code);
}
