/**
 * `npx bun bench/submit-trace.ts [count]`: what one submit costs in round trips. The pipeline runs
 * in this process (worker/testing/pipeline-harness.ts, no workers), and every HTTP request the
 * edge makes goes through a counting wrapper of `fetch`: per submit, how many requests go to the
 * Redis REST bridge (and which commands they carry) and to the Kafka REST gateway, one after
 * another, and how long each takes — without and with an Idempotency-Key.
 */
import { startPipeline } from "../worker/testing/pipeline-harness.ts";
import { fmt, median } from "./stats.ts";

const COUNT = Math.max(10, Number(process.argv[2] ?? 200));

interface Call {
  to: "redis-rest" | "kafka-rest";
  what: string;
  ms: number;
}

const realFetch = globalThis.fetch;
let calls: Call[] | null = null;

/** The command words of an Upstash REST body: `["EVALSHA", …]`, or a pipeline `[[…], […]]`. */
function commands(path: string, body: unknown): string {
  if (typeof body !== "string") return path;
  try {
    const parsed = JSON.parse(body) as unknown[];
    const words = Array.isArray(parsed[0]) ? (parsed as unknown[][]).map((c) => String(c[0])) : [String(parsed[0])];
    return `${path === "/" ? "" : `${path} `}${words.join("+").toUpperCase()}`;
  } catch {
    return path;
  }
}

globalThis.fetch = Object.assign(
  async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const began = performance.now();
    try {
      return await realFetch(input, init);
    } finally {
      if (calls && !url.pathname.startsWith("/api/")) {
        // The edge calls two services: the gateway's /produce, and the bridge for everything else.
        const to = url.pathname.startsWith("/produce") ? "kafka-rest" : "redis-rest";
        calls.push({
          to,
          what: to === "kafka-rest" ? "produce" : commands(url.pathname, init?.body),
          ms: performance.now() - began,
        });
      }
    }
  },
  { preconnect: realFetch.preconnect },
);

// Wrapped before the pipeline starts: the edge's producer keeps the `fetch` it was built with.
// No workers run, so every submit stays in flight: the per-user cap would refuse all after the 20th.
const pipeline = await startPipeline({
  workers: 0,
  edgeEnv: { RATE_LIMIT_PER_MINUTE: "1000000", MAX_IN_FLIGHT_PER_USER: "1000000" },
});

async function trace(label: string, idempotent: boolean) {
  const token = await pipeline.token("trace-user");
  const perSubmit: Call[][] = [];
  const totals: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const recorded: Call[] = [];
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      ...(idempotent ? { "idempotency-key": `trace-${crypto.randomUUID()}` } : {}),
    };
    const began = performance.now();
    calls = recorded;
    const response = await realFetch(`${pipeline.edgeUrl}/api/generations`, {
      method: "POST",
      headers,
      body: JSON.stringify({ prompt: "trace", width: 256, height: 256 }),
    });
    await response.arrayBuffer();
    calls = null;
    if (response.status !== 202) throw new Error(`submit answered ${response.status}`);
    totals.push(performance.now() - began);
    perSubmit.push(recorded);
  }
  const measured = perSubmit.slice(Math.floor(COUNT / 5)); // the first fifth warms up
  const kinds = new Map<string, number[]>();
  for (const submit of measured)
    for (const call of submit)
      kinds.set(`${call.to} ${call.what}`, [...(kinds.get(`${call.to} ${call.what}`) ?? []), call.ms]);
  const roundTrips = median(measured.map((s) => s.length));
  const inCalls = median(measured.map((s) => s.reduce((sum, c) => sum + c.ms, 0)));
  const total = median(totals.slice(Math.floor(COUNT / 5)));
  console.log(`\n${label}: ${roundTrips} HTTP round trips per submit, one after another`);
  for (const [kind, ms] of kinds)
    console.log(`  ${kind.padEnd(40)} ${fmt(ms.length / measured.length, 2)} per submit, median ${fmt(median(ms))} ms`);
  console.log(
    `  submit median ${fmt(total)} ms, of which waiting on those calls ${fmt(inCalls)} ms, the edge's own work ${fmt(total - inCalls)} ms`,
  );
}

try {
  console.log(`Submit trace: ${COUNT} sequential submits each (the first fifth are warm-up), loopback, one process`);
  await trace("no Idempotency-Key", false);
  await trace("with Idempotency-Key", true);
} finally {
  globalThis.fetch = realFetch;
  await pipeline.stop();
}
process.exit(0);
