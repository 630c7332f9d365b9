/**
 * wrangler.toml against the configuration schema (shared/config/variables.ts): each environment
 * deploys somewhere, sets only known non-secret variables in `vars`, and lists as required
 * exactly the secrets without which the edge does not start — so a deploy cannot miss one.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { edgeFromEnv } from "../../edge/edge-from-env.ts";
import { readTemplate, TEMPLATES } from "../../infrastructure/aws/template-checks.ts";
import { ROOT } from "../../infrastructure/paths.ts";
import { allVariables } from "../../shared/config/parse-config.ts";

interface WranglerEnvironment {
  routes?: { pattern: string; custom_domain?: boolean }[];
  vars?: Record<string, string>;
  secrets?: { required?: string[] };
}
const wrangler = Bun.TOML.parse(await Bun.file(join(ROOT, "wrangler.toml")).text()) as {
  env?: Record<string, WranglerEnvironment>;
};
const variables = new Map(allVariables().map((v) => [v.env, v]));

test("wrangler.toml declares staging and production", () => {
  expect(Object.keys(wrangler.env ?? {}).sort()).toEqual(["production", "staging"]);
});

test.each(Object.entries(wrangler.env ?? {}))("[env.%s] is complete and keeps secrets out of vars", (_name, env) => {
  expect(env.routes?.length).toBeGreaterThan(0);
  const vars = env.vars ?? {};
  for (const name of Object.keys(vars)) {
    expect({ name, known: variables.has(name) }).toEqual({ name, known: true });
    expect({ name, secret: variables.get(name)?.secret }).toEqual({ name, secret: false });
  }

  const required = env.secrets?.required ?? [];
  const deployed = { ...vars, ...Object.fromEntries(required.map((name) => [name, "s".repeat(64)])) };
  // A secret the edge needs but the list lacks would show here as "… is required".
  const edge = edgeFromEnv(deployed);
  expect(edge.ok ? "starts" : edge.problem).toBe("starts");
  for (const name of required) {
    const without = edgeFromEnv({ ...deployed, [name]: undefined });
    expect(without.ok ? `starts without ${name}` : without.problem).toContain(`${name} is required`);
  }
});

test.each(Object.entries(wrangler.env ?? {}))(
  "[env.%s] WORKER_URL is the WebSocket load balancer's internal listener on PUBLIC_WS_URL's host",
  (_name, env) => {
    const listener = readTemplate(TEMPLATES.services).Mappings.Ports?.Listener?.Internal;
    const host = new URL(env.vars?.PUBLIC_WS_URL ?? "").hostname;
    expect(env.vars?.WORKER_URL).toBe(`https://${host}:${listener}`);
  },
);
