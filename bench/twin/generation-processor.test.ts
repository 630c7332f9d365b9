import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StatusEvent } from "../../shared/events/events.ts";
import { GENERATION_ERROR_MESSAGES } from "../../shared/job-states.ts";
import type { CompletedMessage, PreviewMessage, StatusMessage } from "../../shared/ws-messages.ts";
import { requestEvent } from "../../worker/gateway/gateway-fixtures.ts";
import type { TerminalEvent } from "../../worker/history/history-record.ts";
import { createLocalImageStore } from "../../worker/images/local-image-store.ts";
import { type Step, scriptedProvider } from "../../worker/testing/scripted-provider.ts";
import { UnrecoverableError } from "../bullmq-side.ts";
import { generationProcessor } from "./generation-processor.ts";
import type { TwinJob } from "./live-feed.ts";

const tmp = mkdtempSync(join(tmpdir(), "twin-processor-"));
const store = createLocalImageStore(tmp);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * One attempt of the processor on a job as BullMQ 5 hands it over: `attemptsMade` counts the
 * attempts before this one, `progress` is the last message the previous attempt stored.
 */
async function attempt(step: Step, attemptsMade: number, progress: StatusMessage | PreviewMessage | null = null) {
  const ended: { end: TerminalEvent; status: StatusEvent; logs: readonly StatusEvent[] }[] = [];
  const logged: StatusEvent[] = [];
  const sent: (StatusMessage | PreviewMessage)[] = [];
  const request = requestEvent({
    userId: "u1",
    params: { prompt: "p", style: "noise", width: 256, height: 256, format: "webp", seed: 1 },
  });
  const job = {
    data: request,
    attemptsMade,
    opts: { attempts: 3 },
    progress,
    async updateProgress(message: StatusMessage | PreviewMessage) {
      sent.push(message);
    },
  } as unknown as TwinJob;
  const processor = generationProcessor({
    provider: scriptedProvider([step]),
    store,
    imageUrl: (key) => `http://images/${key}`,
    policy: { timeoutMs: 30_000, progressIntervalMs: 100 },
    endings: {
      ended: (end, status, logs) => ended.push({ end, status, logs }),
      logged: (logs) => logged.push(...logs),
    },
    workerId: "w",
  });
  const outcome = await processor(job).then(
    (result: CompletedMessage) => ({ result }),
    (error: Error) => ({ error }),
  );
  return { outcome, ended, logged, sent };
}

test("a completed job ends once, its ending numbered as its completed message, its log lines as its messages", async () => {
  const { outcome, ended, logged, sent } = await attempt({ kind: "ok" }, 0);

  if (!("result" in outcome)) throw outcome.error;
  expect(logged).toEqual([]);
  expect(ended).toHaveLength(1);
  const [{ end, status, logs }] = ended as [(typeof ended)[number]];
  expect("completedAt" in end && end.attempts).toBe(1);
  expect(status).toMatchObject({ status: "completed", seq: outcome.result.seq, attempt: 1 });
  expect(outcome.result.seq).toBe(sent.length + 1);
  const bySeq = new Map(sent.map((message) => [message.seq, message]));
  for (const line of logs.slice(0, -1)) expect(bySeq.get(line.seq)?.at).toBe(line.at);
  expect(logs[0]?.log?.message).toBe("attempt 1 of 3 started");
  expect(logs.at(-1)).toBe(status);
});

test("a transient failure before the last attempt is retried: its lines are logged, nothing ends", async () => {
  const { outcome, ended, logged, sent } = await attempt({ kind: "transient" }, 0);

  expect("error" in outcome && !(outcome.error instanceof UnrecoverableError)).toBe(true);
  expect(ended).toEqual([]);
  // Each line is a history row keyed by its seq: one taken twice would be dropped.
  expect(new Set(logged.map((line) => line.seq)).size).toBe(logged.length);
  expect(logged.at(-1)?.seq).toBe(sent.at(-1)?.seq);
  expect(logged.at(-1)?.log).toEqual({
    level: "warn",
    message: `attempt 1 failed: provider_unavailable: ${GENERATION_ERROR_MESSAGES.provider_unavailable}; retrying`,
  });
});

test("the last attempt's failure ends the job, numbered after the last message, with the fixed public message", async () => {
  const before: StatusMessage = {
    type: "status",
    id: "x",
    seq: 7,
    status: "processing",
    stage: "rendering",
    progress: 30,
    at: new Date().toISOString(),
  };
  const { outcome, ended, sent } = await attempt({ kind: "transient" }, 2, before);

  expect("error" in outcome).toBe(true);
  expect(ended).toHaveLength(1);
  const [{ end, status }] = ended as [(typeof ended)[number]];
  expect(status).toMatchObject({ status: "failed", seq: 7 + sent.length + 1, attempt: 3 });
  expect("failedAt" in end && end.error).toEqual({
    code: "provider_unavailable",
    message: GENERATION_ERROR_MESSAGES.provider_unavailable,
    retryable: true,
  });
});

test("a permanent failure ends the job at once and is not retried", async () => {
  const { outcome, ended } = await attempt({ kind: "permanent" }, 0);

  expect("error" in outcome && outcome.error instanceof UnrecoverableError).toBe(true);
  expect(ended.map(({ status }) => status.status)).toEqual(["failed"]);
  expect(JSON.stringify(ended)).not.toContain("safety system");
});
