/** A WebSocket client for tests: records every message and how the socket closed. */
import type { ServerMessage } from "../../shared/ws-messages.ts";

export interface Recorded {
  messages: ServerMessage[];
  opened: boolean;
  closed: Promise<{ code: number; reason: string }>;
  socket: WebSocket;
  /** Resolves when a message matching `predicate` has arrived. */
  until(predicate: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
}

export function record(url: string, init?: { headers?: Record<string, string> }): Recorded {
  const socket = new WebSocket(url, init as never);
  const messages: ServerMessage[] = [];
  const waiters: { predicate: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  const recorded: Recorded = {
    messages,
    opened: false,
    socket,
    closed: new Promise((resolve) => {
      socket.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }));
    }),
    until(predicate, timeoutMs = 30_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
  socket.addEventListener("open", () => {
    recorded.opened = true;
  });
  socket.addEventListener("message", (e) => {
    const message = JSON.parse(String(e.data)) as ServerMessage;
    messages.push(message);
    for (const w of [...waiters])
      if (w.predicate(message)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message);
      }
  });
  return recorded;
}

/** Asserts docs/api.md's ordering: a snapshot or resume, then strictly consecutive `seq`. */
export function seqGaps(messages: ServerMessage[], startAfter?: number): string[] {
  const problems: string[] = [];
  let last = startAfter ?? (messages[0]?.type === "snapshot" ? messages[0].seq : 0);
  for (const m of messages.slice(messages[0]?.type === "snapshot" ? 1 : 0)) {
    if (m.type === "snapshot") problems.push(`snapshot after the start (seq ${m.seq})`);
    else if (m.seq !== last + 1) problems.push(`seq ${m.seq} after ${last}`);
    last = m.seq;
  }
  return problems;
}
