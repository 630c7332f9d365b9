/**
 * The CloudFormation templates and how they are checked without an AWS account: cfn-lint
 * (schema and best practice) and checkov (security policy, with our own checks in checkov/),
 * both from the project's venv (python-tools.ts). deploy.sh lints the same list.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../paths.ts";
import { toolPath } from "./python-tools.ts";

/** In deploy order; paths relative to the repository root. */
export const TEMPLATES = {
  kafka: "infrastructure/kafka/msk-cluster.yml",
  storage: "infrastructure/aws/storage.yml",
  services: "infrastructure/aws/services.yml",
  monitoring: "infrastructure/aws/monitoring.yml",
} as const;

export const CUSTOM_CHECKS_DIR = "infrastructure/aws/checkov";

/** A parsed template; long-form intrinsics (`Fn::Sub:`) make it plain YAML. */
export type Template = {
  Parameters: Record<string, Record<string, unknown>>;
  Mappings: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
};

export function readTemplate(path: string): Template {
  return Bun.YAML.parse(readFileSync(join(ROOT, path), "utf8")) as Template;
}

async function run(cmd: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out: out.trim(), err: err.trim() };
}

/** cfn-lint's findings, one per line; exit code 0 means none. */
export const cfnLint = (files: readonly string[]) => run([toolPath("cfn-lint"), "--", ...files]);

export interface CheckovFinding {
  id: string;
  resource: string;
  file: string;
}

/** checkov's verdicts over `files`; offline (--skip-download), our checks included. */
export async function checkov(
  files: readonly string[],
  onlyChecks?: readonly string[],
): Promise<{ passed: CheckovFinding[]; failed: CheckovFinding[]; skipped: CheckovFinding[] }> {
  const { out, err } = await run([
    toolPath("checkov"),
    ...files.flatMap((f) => ["-f", f]),
    "--framework",
    "cloudformation",
    "--skip-download",
    "--external-checks-dir",
    CUSTOM_CHECKS_DIR,
    ...(onlyChecks ? ["--check", onlyChecks.join(",")] : []),
    "--output",
    "json",
  ]);
  if (!out.startsWith("{")) throw new Error(`checkov printed no report: ${(err || out).slice(0, 500)}`);
  type Raw = { check_id: string; resource: string; file_path: string };
  const report = JSON.parse(out) as {
    results: { passed_checks: Raw[]; failed_checks: Raw[]; skipped_checks: Raw[] };
  };
  const findings = (list: Raw[]) =>
    list.map((c) => ({ id: c.check_id, resource: c.resource, file: c.file_path.replace(/^\//, "") }));
  return {
    passed: findings(report.results.passed_checks),
    failed: findings(report.results.failed_checks),
    skipped: findings(report.results.skipped_checks),
  };
}
