/**
 * A browser-like client in a child process: submits generations through the edge's HTTP API and
 * follows each on its WebSocket (`links.events`) until the terminal message. The same black-box
 * view of both products: times come from the client's clock and from what the messages carry —
 * the edge's `createdAt`, the worker's start (`startedAt` in the snapshot, or the first
 * `processing` status `at`) and the completion stamped by the worker (`createdAt + timings.totalMs`).
 *
 * Modes: `burst` sends every submission at once; `paced` sends one every `intervalMs`;
 * `sequential` sends the next only after the previous ended (and a short pause).
 */
import { isTerminal } from "../shared/job-states.ts";
import { type CompletedMessage, isTerminalMessage, type ServerMessage } from "../shared/ws-messages.ts";
import { planArgument, runInChild } from "./child.ts";
import { epochClock } from "./stats.ts";

export interface GenerationPlan {
  edgeUrl: string;
  tokens: string[];
  /** Submit bodies, used round-robin (their seeds make each image differ). */
  bodies: Record<string, unknown>[];
  count: number;
  mode: "burst" | "paced" | "sequential";
  intervalMs?: number;
}

/** One generation as the client saw it; epoch milliseconds. */
export interface Followed {
  sentAt: number;
  acceptedAt: number;
  createdAt: number;
  startedAt: number;
  /** When the worker recorded the outcome: createdAt + timings.totalMs. */
  finishedAt: number;
  /** When the terminal message arrived here. */
  receivedAt: number;
  /** The provider call's own time inside the worker (the completed message's timings.generationMs). */
  generationMs: number;
  outcome: string;
}

export interface GenerationRunResult {
  followed: Followed[];
  failures: string[];
  /** From the first submission to the last terminal message. */
  seconds: number;
  clientCpu: number;
}

export const runGenerations = (plan: GenerationPlan) => runInChild<GenerationRunResult>(import.meta.path, plan);

const TIMEOUT_MS = 120_000;

async function follow(plan: GenerationPlan, index: number, now: () => number): Promise<Followed> {
  const sentAt = now();
  const response = await fetch(`${plan.edgeUrl}/api/generations`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${plan.tokens[index % plan.tokens.length]}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(plan.bodies[index % plan.bodies.length]),
  });
  const acceptedAt = now();
  const accepted = (await response.json()) as { createdAt?: string; links?: { events: string } };
  if (response.status !== 202 || !accepted.links || !accepted.createdAt)
    throw new Error(`submit answered ${response.status}`);
  const createdAt = Date.parse(accepted.createdAt);
  const socket = new WebSocket(accepted.links.events);
  return new Promise<Followed>((resolve, reject) => {
    let startedAt = Number.NaN;
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no terminal message in time"));
    }, TIMEOUT_MS);
    socket.addEventListener("message", (event) => {
      const receivedAt = now();
      const message = JSON.parse(String(event.data)) as ServerMessage;
      if (message.type === "snapshot" && message.startedAt) startedAt = Date.parse(message.startedAt);
      if (message.type === "status" && message.status === "processing" && Number.isNaN(startedAt))
        startedAt = Date.parse(message.at);
      // Status and preview messages come before the end; a terminal snapshot (opened late) is the end.
      if (message.type === "snapshot" ? !isTerminal(message.status) : !isTerminalMessage(message)) return;
      clearTimeout(timer);
      socket.close();
      // A socket opened after the end gets a terminal snapshot: its completedAt is the worker's stamp.
      const timings = message.type === "completed" ? (message as CompletedMessage).timings : undefined;
      const finishedAt = timings
        ? createdAt + timings.totalMs
        : message.type === "snapshot" && message.completedAt
          ? Date.parse(message.completedAt)
          : Number.NaN;
      resolve({
        sentAt,
        acceptedAt,
        createdAt,
        startedAt,
        finishedAt,
        receivedAt,
        generationMs: timings?.generationMs ?? Number.NaN,
        outcome: message.type === "snapshot" ? message.status : message.type,
      });
    });
    socket.addEventListener("close", (event) => {
      clearTimeout(timer);
      reject(new Error(`socket closed (${event.code}) before the terminal message`));
    });
  });
}

async function run(plan: GenerationPlan): Promise<GenerationRunResult> {
  const now = epochClock();
  const followed: Followed[] = [];
  const failures: string[] = [];
  const track = (index: number) =>
    follow(plan, index, now).then(
      (f) => void followed.push(f),
      (error: Error) => void failures.push(error.message),
    );
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  if (plan.mode === "sequential") {
    for (let i = 0; i < plan.count; i++) {
      await track(i);
      await Bun.sleep(plan.intervalMs ?? 20);
    }
  } else {
    const all: Promise<void>[] = [];
    for (let i = 0; i < plan.count; i++) {
      if (plan.mode === "paced") {
        const wait = started + i * (plan.intervalMs ?? 0) - performance.now();
        if (wait > 0) await Bun.sleep(wait);
      }
      all.push(track(i));
    }
    await Promise.all(all);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const first = Math.min(...followed.map((f) => f.sentAt));
  const last = Math.max(...followed.map((f) => f.receivedAt));
  return {
    followed,
    failures,
    seconds: (last - first) / 1000,
    clientCpu: (cpu.user + cpu.system) / 1e6 / ((performance.now() - started) / 1000),
  };
}

if (import.meta.main) console.log(JSON.stringify(await run(planArgument<GenerationPlan>())));
