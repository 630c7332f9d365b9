/**
 * What we hold our compose files to, as functions returning the offenders (empty when clean),
 * so the tests can show each rule also catches a broken file. No Docker engine runs here, so
 * `include:` is resolved by hand the way Compose merges it: services and volumes side by side.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

type Port = string | number | { published?: string | number; host_ip?: string; target?: number };
export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: Port[];
  restart?: string;
  deploy?: { replicas?: number | string };
  scale?: number | string;
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
}
export interface ComposeFile {
  include?: (string | { path: string })[];
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function readCompose(path: string): ComposeFile {
  return Bun.YAML.parse(readFileSync(path, "utf8")) as ComposeFile;
}

/** The file with its includes merged in, as `docker compose config` would see its services. */
export function loadCompose(path: string): ComposeFile {
  const file = readCompose(path);
  const merged: ComposeFile = { services: { ...file.services }, volumes: { ...file.volumes } };
  for (const entry of file.include ?? []) {
    const included = loadCompose(join(dirname(path), typeof entry === "string" ? entry : entry.path));
    for (const [name, service] of Object.entries(included.services)) {
      if (merged.services[name]) throw new Error(`service ${name} is defined twice (include conflict)`);
      merged.services[name] = service;
    }
    Object.assign(merged.volumes ?? {}, included.volumes);
  }
  return merged;
}

const services = (compose: ComposeFile) => Object.entries(compose.services);

/** Images without a tag or digest, or on a moving tag. */
export function unpinnedImages(compose: ComposeFile): string[] {
  return services(compose)
    .filter(([, s]) => s.image !== undefined)
    .filter(([, s]) => {
      const image = s.image ?? "";
      if (/@sha256:[0-9a-f]{64}$/.test(image)) return false;
      const tag = /:([\w][\w.-]{0,127})$/.exec(image.replace(/^[^/]+:\d+\//, ""))?.[1];
      return tag === undefined || ["latest", "main", "master", "edge", "nightly"].includes(tag);
    })
    .map(([name, s]) => `${name}: ${s.image}`);
}

const replicated = (s: ComposeService) => {
  const count = s.deploy?.replicas ?? s.scale ?? 1;
  return String(count).trim() !== "1";
};

/** The host side of a published port, or null when Docker picks an ephemeral one. */
function hostBinding(port: Port): { ip: string | null; port: string | null } {
  if (typeof port === "object") return { ip: port.host_ip ?? null, port: port.published?.toString() ?? null };
  const parts = String(port)
    .replace(/\/\w+$/, "")
    .split(":");
  if (parts.length === 1) return { ip: null, port: null };
  if (parts.length === 2) return { ip: null, port: parts[0] ?? null };
  return { ip: parts.slice(0, -2).join(":"), port: parts.at(-2) ?? null };
}

/** Services that may run several replicas yet bind a fixed host port (the second replica fails). */
export function fixedHostPortsOnReplicated(compose: ComposeFile): string[] {
  return services(compose)
    .filter(([, s]) => replicated(s))
    .flatMap(([name, s]) =>
      (s.ports ?? []).filter((p) => hostBinding(p).port !== null).map((p) => `${name}: ${JSON.stringify(p)}`),
    );
}

/** Published ports reachable from other machines (no host IP, or not loopback). */
export function publishedBeyondLoopback(compose: ComposeFile): string[] {
  return services(compose).flatMap(([name, s]) =>
    (s.ports ?? [])
      .filter((p) => hostBinding(p).port !== null && !["127.0.0.1", "[::1]", "::1"].includes(hostBinding(p).ip ?? ""))
      .map((p) => `${name}: ${JSON.stringify(p)}`),
  );
}

/**
 * Services with no enabled health check. One-shot jobs are exempt: they exit, and Compose waits
 * for them with `service_completed_successfully` instead.
 */
export function missingHealthchecks(compose: ComposeFile): string[] {
  const awaitedJobs = new Set(
    services(compose).flatMap(([, s]) =>
      Array.isArray(s.depends_on)
        ? []
        : Object.entries(s.depends_on ?? {})
            .filter(([, d]) => d.condition === "service_completed_successfully")
            .map(([job]) => job),
    ),
  );
  return services(compose)
    .filter(([name, s]) => !(s.restart === "no" && awaitedJobs.has(name)))
    .filter(([, s]) => !s.healthcheck?.test || s.healthcheck.disable === true)
    .map(([name]) => name);
}

/**
 * Compose's interpolation of a value from the env file: `${VAR}`, `${VAR:-default}` (also when
 * empty) and `${VAR:?message}`, which stops Compose when VAR is unset or empty - thrown here.
 */
export function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg = "") => {
    const set = env[name] !== undefined && env[name] !== "";
    if (op === "-") return set ? (env[name] ?? "") : arg;
    if (op === "?" && !set) throw new Error(`${name}: ${arg}`);
    return env[name] ?? "";
  });
}
