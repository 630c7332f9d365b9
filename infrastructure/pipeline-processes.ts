/**
 * The processes of the whole pipeline, in start order: what `npm start` supervises and what
 * tests that need real processes spawn, so both run the same set.
 */
import { join } from "node:path";
import type { ChildSpec } from "../worker/runtime/supervisor.ts";
import { ROOT } from "./paths.ts";

export function pipelineProcesses(env: Record<string, string>, workers: number): ChildSpec[] {
  const bun = (file: string) => [process.execPath, join(ROOT, file)];
  return [
    { name: "kafka-rest-gateway", cmd: bun("worker/gateway/main.ts"), env },
    { name: "redis-rest-bridge", cmd: bun("worker/redis-bridge/main.ts"), env },
    { name: "status-relay", cmd: bun("worker/relay/main.ts"), env },
    { name: "history-writer", cmd: bun("worker/history/main.ts"), env },
    ...Array.from({ length: workers }, (_, i) => ({
      name: `worker-${i + 1}`,
      cmd: bun("worker/main.ts"),
      env: { ...env, WORKER_INSTANCE: String(i + 1) },
    })),
    { name: "ops-console", cmd: bun("worker/ops/main.ts"), env },
    { name: "edge", cmd: bun("edge/entry-bun.ts"), env },
  ];
}
