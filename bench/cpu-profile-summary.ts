/**
 * Reads a `.cpuprofile` Bun wrote (`--cpu-prof`) and says where the JavaScript time went: by
 * area (our folders, each npm package, Bun's built-ins) and by function. Bun samples only while
 * JavaScript runs, so a sample is about one sampling interval of JS on the main thread; native
 * work (sharp's threads, the kernel, Bun's I/O) is not in it — compare with the process's CPU.
 */
import { readFileSync } from "node:fs";
import { ROOT } from "../infrastructure/paths.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  /** Samples in all: milliseconds of JavaScript at the default 1 ms interval. */
  samples: number;
  byArea: [string, number][];
  byFunction: [string, number][];
}

/** Our folder (two levels: worker/gateway), an npm package, or Bun's own code. */
function areaOf(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
  if (pkg) return pkg;
  if (path.startsWith(`${ROOT}/`))
    return path
      .slice(ROOT.length + 1)
      .split("/")
      .slice(0, 2)
      .join("/");
  return path ? `builtin ${path.split("/")[0]}` : "(native, GC, program)";
}

/**
 * `window`: only samples taken from `fromMs` to `toMs` after the profile began (the process
 * start), so a scenario's steady state can be read without the process's start-up.
 */
export function summarizeProfile(file: string, window?: { fromMs: number; toMs: number }, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const hitsOf = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += (profile.timeDeltas[i] ?? 0) / 1000;
    if (!window || (at >= window.fromMs && at <= window.toMs)) hitsOf.set(id, (hitsOf.get(id) ?? 0) + 1);
  });
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let samples = 0;
  for (const node of profile.nodes) {
    const hits = hitsOf.get(node.id) ?? 0;
    if (hits === 0) continue;
    samples += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url);
    const where = url ? `${url.replace(/^file:\/\//, "").replace(`${ROOT}/`, "")}:${lineNumber + 1}` : "";
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
    const name = `${functionName || "(anonymous)"} ${where}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { samples, byArea: sorted(byArea), byFunction: sorted(byFunction) };
}

export function printProfile(name: string, summary: ProfileSummary, cpuSeconds?: number, wallSeconds?: number): void {
  const share = (n: number) => `${((n / Math.max(1, summary.samples)) * 100).toFixed(1)}%`;
  const core =
    cpuSeconds !== undefined && wallSeconds ? ` = ${((cpuSeconds / wallSeconds) * 100).toFixed(1)}% of a core` : "";
  const cpu = cpuSeconds === undefined ? "" : `, process CPU ${cpuSeconds.toFixed(2)} s${core}`;
  console.log(`\n${name}: ${summary.samples} JS samples (≈ ms)${cpu}`);
  console.log(`  by area:     ${summary.byArea.map(([a, n]) => `${a} ${share(n)}`).join(", ")}`);
  for (const [fn, n] of summary.byFunction) console.log(`  ${share(n).padStart(6)}  ${fn}`);
}
