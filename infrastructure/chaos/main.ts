/**
 * `npm run chaos`: the pipeline's own fault suite (infrastructure/chaos/run-chaos.ts) on a stack
 * of its own. Prints the report, writes it as JSON to .data/chaos/, and exits 1 on any loss,
 * duplicate, stuck generation, watcher fault, missing image, refused-submit trace or 500.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATA_DIR } from "../paths.ts";
import { ensureSystemPackages, FOR_START } from "../system-packages.ts";
import { FULL } from "./plans.ts";
import { renderReport, reportJson } from "./report.ts";
import { runChaos } from "./run-chaos.ts";

const began = Date.now();
const log = (line: string) => console.log(`[chaos +${((Date.now() - began) / 1000).toFixed(0)}s] ${line}`);
const dir = join(DATA_DIR, "chaos");
try {
  // The same programs `npm start` needs (the broker, Redis), installed the same way on a machine
  // that has never run anything else of the project.
  await ensureSystemPackages(FOR_START, { log });
  const result = await runChaos(FULL, log, { keepLogsIn: dir });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `report-${new Date(result.startedAt).toISOString().replaceAll(":", "-")}.json`);
  writeFileSync(file, reportJson(result));
  console.log(`\n${renderReport(result)}\nJSON report: ${file}; the processes' logs are beside it`);
  process.exit(result.ok ? 0 : 1);
} catch (error) {
  console.error(`chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
}
