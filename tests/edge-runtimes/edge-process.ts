/**
 * Starts the edge on one of its runtimes as its own process, the way `npm run edge:*` does, on
 * a free loopback port, from a bare working directory (so no developer `.env` leaks in), with
 * `env` as its whole configuration.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../infrastructure/paths.ts";
import { freePort } from "../../worker/testing/pipeline-harness.ts";

export const EDGE_RUNTIMES = ["bun", "workerd", "deno"] as const;
export type EdgeRuntime = (typeof EDGE_RUNTIMES)[number];

const ENTRY: Record<EdgeRuntime, string> = {
  bun: "edge/entry-bun.ts",
  workerd: "infrastructure/edge-runtimes/workerd-edge.ts",
  deno: "infrastructure/edge-runtimes/deno-edge.ts",
};
const START_TIMEOUT_MS = 60_000;

export interface EdgeProcess {
  url: string;
  /** Resolves with the exit code, all output read, when the process ends by itself or is stopped. */
  exited: Promise<number>;
  /** Everything the process wrote so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the process and returns at once; see `startEdge` to wait until it serves. */
export function launchEdge(runtime: EdgeRuntime, env: Record<string, string>): EdgeProcess {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const cwd = mkdtempSync(join(tmpdir(), `edge-${runtime}-`));
  const proc = Bun.spawn([process.execPath, join(ROOT, ENTRY[runtime])], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? cwd,
      ...env,
      LISTEN_HOST: "127.0.0.1",
      EDGE_PORT: String(port),
      STUDIO_ORIGIN: url,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const collected = Promise.all([collect(proc.stdout), collect(proc.stderr)]);

  return {
    url,
    exited: Promise.all([proc.exited, collected]).then(([code]) => code),
    output: () => output,
    async stop() {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
      await proc.exited;
      await collected;
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** Resolves once the edge answers HTTP (any status); fails with its output if it exits or hangs. */
export async function waitUntilServing(edge: EdgeProcess): Promise<void> {
  let exitCode: number | undefined;
  void edge.exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && exitCode === undefined) {
    const answered = await fetch(`${edge.url}/healthz`).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await Bun.sleep(100);
  }
  await edge.stop();
  throw new Error(`the edge at ${edge.url} did not start (exit code ${exitCode}):\n${edge.output()}`);
}

export async function startEdge(runtime: EdgeRuntime, env: Record<string, string>): Promise<EdgeProcess> {
  const edge = launchEdge(runtime, env);
  await waitUntilServing(edge);
  return edge;
}
