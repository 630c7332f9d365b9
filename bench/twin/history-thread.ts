/**
 * The twin's history writes on a thread of their own, so a BullMQ worker serving sockets never
 * waits on SQLite: bun:sqlite is synchronous, and a commit (or a wait on the other instance's
 * lock, up to the busy timeout) would otherwise stall the worker's event loop, where ours writes
 * history from a separate process. It stands for the asynchronous database driver a BullMQ
 * product would write with. The thread owns its own connection to DATABASE_URL.
 */
import type { HistoryDb } from "../../worker/history/history-db.ts";

type Batch = Parameters<HistoryDb["recordMany"]>[0];
type Call = { call: number; batch: Batch; databaseUrl: string };
type Reply = { call: number; inserted: string[] } | { call: number; error: string };

/** In the main thread: `recordMany` posted to the thread, answered when its transaction ends. */
export function historyOnThread(databaseUrl: string) {
  const thread = new Worker(new URL(import.meta.url).href);
  const waiting = new Map<number, { resolve(ids: Set<string>): void; reject(error: Error): void }>();
  const pending = new Set<Promise<unknown>>();
  let calls = 0;
  let dead: Error | null = null;
  let closed: Promise<void> | null = null;
  thread.onmessage = (event: MessageEvent<Reply>) => {
    const reply = event.data;
    const waiter = waiting.get(reply.call);
    waiting.delete(reply.call);
    if ("error" in reply) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(new Set(reply.inserted));
  };
  // A thread that died answers nothing more: what waits on it is refused, not left hanging.
  thread.onerror = (event: ErrorEvent) => {
    dead = new Error(`history thread failed: ${event.message}`);
    for (const waiter of waiting.values()) waiter.reject(dead);
    waiting.clear();
  };
  return {
    recordMany(batch: Batch): Promise<Set<string>> {
      if (dead) return Promise.reject(dead);
      const call = ++calls;
      const answered = new Promise<Set<string>>((resolve, reject) => {
        waiting.set(call, { resolve, reject });
        thread.postMessage({ call, batch, databaseUrl } satisfies Call);
      });
      const settled = answered.catch(() => {}).finally(() => pending.delete(settled));
      pending.add(settled);
      return answered;
    },
    /** After every call made so far is answered; safe to call twice. */
    close(): Promise<void> {
      closed ??= Promise.all(pending).then(() => thread.terminate());
      return closed;
    },
  };
}

declare const self: Worker;
if (!Bun.isMainThread) {
  // Set at once, so no message arrives before there is a handler; the database opens with the first.
  let db: Promise<HistoryDb> | undefined;
  self.onmessage = async (event: MessageEvent<Call>) => {
    const { call, batch, databaseUrl } = event.data;
    try {
      db ??= import("../../worker/history/history-db.ts").then(({ openHistoryDb }) => openHistoryDb(databaseUrl));
      self.postMessage({ call, inserted: [...(await (await db).recordMany(batch))] } satisfies Reply);
    } catch (error) {
      self.postMessage({ call, error: error instanceof Error ? error.message : String(error) } satisfies Reply);
    }
  };
}
