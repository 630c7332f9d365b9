/**
 * Test fixture: a pretend AWS account and an `aws` on PATH that is the stand-in
 * (aws-cli-standin.ts), plus a runner for deploy.sh that records what it asked AWS.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../paths.ts";
import { type AccountState, emptyAccount, loadAccount, saveAccount } from "./standin-state.ts";

export const DEPLOY_SH = join(ROOT, "infrastructure/kafka/deploy.sh");

export interface FakeAws {
  dir: string;
  account(): AccountState;
  update(change: (state: AccountState) => void): void;
  /** Every `aws` invocation so far, as its argument list. */
  calls(): string[][];
  /** Runs deploy.sh with these arguments; stdin is not a terminal. */
  deploy(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function fakeAws(seed: (state: AccountState) => void = () => {}): FakeAws {
  const dir = mkdtempSync(join(tmpdir(), "fake-aws-"));
  const state = emptyAccount();
  seed(state);
  saveAccount(join(dir, "account.json"), state);
  writeFileSync(join(dir, "calls.jsonl"), "");
  const shim = join(dir, "aws");
  writeFileSync(
    shim,
    `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, "infrastructure/aws/testing/aws-cli-standin.ts")}" "$@"\n`,
  );
  chmodSync(shim, 0o755);
  return {
    dir,
    account: () => loadAccount(join(dir, "account.json")),
    update(change) {
      const current = loadAccount(join(dir, "account.json"));
      change(current);
      saveAccount(join(dir, "account.json"), current);
    },
    calls: () =>
      readFileSync(join(dir, "calls.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]),
    async deploy(args, env = {}) {
      const proc = Bun.spawn(["bash", DEPLOY_SH, ...args], {
        cwd: dir,
        env: { PATH: `${dir}:${process.env.PATH ?? ""}`, HOME: dir, AWS_STANDIN_DIR: dir, ...env },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      return { code, stdout, stderr };
    },
  };
}

/** The seed's network: vpc-12345678 with subnet-123/456/789 in three zones and sg-789abc. */
export function seedNetwork(state: AccountState): void {
  state.subnets = {
    "subnet-123": { vpc: "vpc-12345678", zone: "eu-west-1a" },
    "subnet-456": { vpc: "vpc-12345678", zone: "eu-west-1b" },
    "subnet-789": { vpc: "vpc-12345678", zone: "eu-west-1c" },
    "subnet-abc": { vpc: "vpc-12345678", zone: "eu-west-1a" },
    "subnet-def": { vpc: "vpc-87654321", zone: "eu-west-1b" },
    "subnet-0a1": { vpc: "vpc-12345678", zone: "eu-west-1a" },
    "subnet-0b2": { vpc: "vpc-12345678", zone: "eu-west-1b" },
  };
  state.securityGroups = { "sg-789abc": { vpc: "vpc-12345678" }, "sg-000fff": { vpc: "vpc-87654321" } };
}

/** The container tier's settings (SSM) and app secret, as README "Production on AWS" has them made. */
export function seedContainerTier(state: AccountState, env: "dev" | "prod"): void {
  const p = `/pixel-studio/${env}/`;
  Object.assign(state.ssm, {
    [`${p}image`]: `123456789012.example/pixel-studio:1.4.0`,
    [`${p}public-subnets`]: "subnet-0a1,subnet-0b2",
    [`${p}certificate-arn`]: `arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab`,
    [`${p}public-ws-url`]: `wss://ws.${env}.pixel.example`,
    [`${p}studio-origin`]: `https://studio.${env}.pixel.example`,
    [`${p}alarm-email`]: "oncall@pixel.example",
  });
  state.secrets[`pixel-studio/${env}/app`] = {
    arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:pixel-studio/${env}/app-Ab12Cd`,
  };
}
