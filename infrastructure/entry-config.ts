/**
 * What the deployment files (compose.yaml, aws/services.yml) are checked against: the
 * configuration each entry point parses, and where each role answers its readiness probe.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Env } from "../shared/config/parse-config.ts";
import { type SectionName, sections } from "../shared/config/variables.ts";
import { ROOT } from "./paths.ts";

/** The sections an entry point parses: the list it gives `configOrExit` (which adds "log"). */
export function entrySections(file: string): SectionName[] {
  const names = /configOrExit\(process\.env, \[([^\]]*)\]\)/.exec(readFileSync(join(ROOT, file), "utf8"))?.[1];
  if (names === undefined) throw new Error(`${file} does not call configOrExit(process.env, [...])`);
  const list = names
    .split(",")
    .map((n) => n.trim().replaceAll('"', ""))
    .filter(Boolean);
  const unknown = list.filter((n) => !(n in sections));
  if (unknown.length) throw new Error(`${file}: unknown configuration sections ${unknown.join(", ")}`);
  return [...(list as SectionName[]), "log"];
}

/** The variables an entry point cannot start without: those of its sections with no default. */
export function requiredVariables(file: string): string[] {
  return entrySections(file)
    .flatMap((section) => Object.values(sections[section]) as { env: string; default?: string }[])
    .filter((v) => v.default === undefined)
    .map((v) => v.env);
}

/**
 * Where each role serves its readiness probe: the variable holding the port, and the path. The
 * worker answers /readyz only on its internal port; WS_PORT says 404 (worker/http/worker-app.ts).
 */
export const READINESS: Record<string, { portVariable: string; path: string }> = {
  "worker/main.ts": { portVariable: sections.worker.internalPort.env, path: "/readyz" },
  "worker/gateway/main.ts": { portVariable: sections.kafkaRest.port.env, path: "/readyz" },
  "worker/redis-bridge/main.ts": { portVariable: sections.redisRest.port.env, path: "/" },
  "worker/relay/main.ts": { portVariable: sections.health.port.env, path: "/readyz" },
  "worker/history/main.ts": { portVariable: sections.health.port.env, path: "/readyz" },
  "edge/entry-bun.ts": { portVariable: sections.edge.port.env, path: "/healthz" },
  "worker/ops/main.ts": { portVariable: sections.ops.port.env, path: "/ops/login" },
};

/** The readiness URL a role's container health check must probe, given that container's environment. */
export function readinessUrl(file: string, env: Env): string | undefined {
  const readiness = READINESS[file];
  if (!readiness) return undefined;
  const variable = Object.values(sections)
    .flatMap((s) => Object.values(s) as { env: string; default?: string }[])
    .find((v) => v.env === readiness.portVariable);
  return `http://127.0.0.1:${env[readiness.portVariable] ?? variable?.default}${readiness.path}`;
}
