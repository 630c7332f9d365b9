/**
 * Every template passes cfn-lint and checkov (our own checks included), and our checks do fail
 * what they exist to refuse. The tools come from the project's venv (python-tools.ts), at the
 * versions of requirements.txt.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../paths.ts";
import { ensurePythonTools, TOOLS_VENV, toolPath } from "./python-tools.ts";
import { cfnLint, checkov, TEMPLATES } from "./template-checks.ts";

const files = Object.values(TEMPLATES);
const CUSTOM = ["CKV_PIXEL_1", "CKV_PIXEL_2", "CKV_PIXEL_3", "CKV_PIXEL_4"];
/** checkov loads for seconds; on a busy 2-core machine, tens of them. */
const SLOW = 180_000;

beforeAll(async () => {
  await ensurePythonTools({ log: () => {} });
}, 600_000);

describe("CloudFormation templates", () => {
  test("the venv holds exactly the pinned cfn-lint and checkov", () => {
    const requirements = readFileSync(join(ROOT, "infrastructure/aws/requirements.txt"), "utf8");
    const pinned = [...requirements.matchAll(/^([\w-]+)==(\S+)$/gm)].map((m) => `${m[1]}==${m[2]}`);
    expect(pinned.map((p) => p.split("==")[0])).toEqual(["cfn-lint", "checkov"]);
    // What pip installed, from its own records (asking the tools takes seconds each; the tests
    // below run them anyway).
    const installed = [
      ...new Bun.Glob("lib/python*/site-packages/*.dist-info").scanSync({ cwd: TOOLS_VENV, onlyFiles: false }),
    ].map((dir) => {
      const [, name, version] = /([^/]+)-([^-/]+)\.dist-info$/.exec(dir) ?? [];
      return `${name?.toLowerCase().replaceAll("_", "-")}==${version}`;
    });
    for (const p of pinned) expect(installed).toContain(p);
    for (const tool of ["cfn-lint", "checkov"] as const) expect(Bun.file(toolPath(tool)).size).toBeGreaterThan(0);
  });

  test(
    "cfn-lint finds nothing in any template",
    async () => {
      const { code, out } = await cfnLint(files);
      expect(out).toBe("");
      expect(code).toBe(0);
    },
    SLOW,
  );

  test(
    "checkov finds nothing, and our own checks ran on the MSK template and passed",
    async () => {
      const { passed, failed, skipped } = await checkov(files);
      expect(failed).toEqual([]);
      const ours = passed.filter((p) => CUSTOM.includes(p.id));
      expect(new Set(ours.map((p) => p.id))).toEqual(new Set(CUSTOM));
      expect(ours.find((p) => p.id === "CKV_PIXEL_1")?.resource).toBe("AWS::SecretsManager::Secret.ScramSecret");
      // Each skip is one the templates state with a reason, never a blanket one.
      expect(skipped.every((s) => !CUSTOM.includes(s.id))).toBe(true);
    },
    SLOW,
  );

  test(
    "our checks fail a template without SCRAM, TLS, a customer key or closed broker ports",
    async () => {
      const { failed } = await checkov(["infrastructure/aws/testing/insecure-kafka.yml"], CUSTOM);
      const seen = failed.map((f) => `${f.id} ${f.resource}`).sort();
      expect(seen).toEqual([
        "CKV_PIXEL_1 AWS::SecretsManager::Secret.ScramUnderTheDefaultKey",
        "CKV_PIXEL_1 AWS::SecretsManager::Secret.ScramWithoutKey",
        "CKV_PIXEL_2 AWS::MSK::Cluster.Cluster",
        "CKV_PIXEL_3 AWS::MSK::Cluster.Cluster",
        "CKV_PIXEL_4 AWS::EC2::SecurityGroup.Brokers",
        "CKV_PIXEL_4 AWS::EC2::SecurityGroupIngress.MoreBrokers",
      ]);
    },
    SLOW,
  );
});
