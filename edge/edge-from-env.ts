import { API_ERRORS } from "../shared/api-errors.ts";
import { ConfigError, type Env, parseConfig } from "../shared/config/parse-config.ts";
import type { Logger } from "../shared/logger.ts";
import { createEdgeApp, type EdgeApp } from "./app.ts";
import { buildEdgeDeps } from "./build-deps.ts";
import type { NextTurn } from "./produce-coalescer.ts";
import type { RequestObserver } from "./request-metrics.ts";

const CONFIG_PROBLEM_RETRY_AFTER_SECONDS = 60;

export type EdgeFromEnv =
  | { ok: true; app: EdgeApp; logger: Logger; host: string; port: number }
  /** `problem` names each bad variable (never a secret's value); `fetch` answers 503 meanwhile. */
  | { ok: false; problem: string; fetch: (request: Request) => Response };

/**
 * What every runtime's entry point does with its environment (a process's variables on Bun and
 * Deno, a Worker's bindings): parse the configuration and build the app once. A bad
 * setting is returned, not thrown, because each runtime reacts in its own way: a process
 * exits, a Worker (which cannot) answers 503 with the fixed public message. `terminal`: the
 * process's output is a terminal, for readable log lines; `observe`: per-request metrics, where
 * the runtime can export them (Bun); `nextTurn`: where requests may share I/O (Bun), the submits
 * of one event-loop turn produce in one call.
 */
export function edgeFromEnv(
  env: Env,
  runtime: { terminal?: boolean; observe?: RequestObserver; nextTurn?: NextTurn } = {},
): EdgeFromEnv {
  try {
    const deps = buildEdgeDeps(env, runtime);
    const { host } = parseConfig(env, ["listen"]).listen;
    const app = createEdgeApp({ ...deps, observe: runtime.observe });
    return { ok: true, app, logger: deps.logger, host, port: deps.config.edge.port };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const body = JSON.stringify({ error: { code: "unavailable", message: API_ERRORS.unavailable.message } });
    return {
      ok: false,
      problem: error.message,
      fetch: () =>
        new Response(body, {
          status: 503,
          // Every 503 says when to come back; a setting is fixed by a redeploy, not in seconds.
          headers: { "content-type": "application/json", "retry-after": String(CONFIG_PROBLEM_RETRY_AFTER_SECONDS) },
        }),
    };
  }
}
