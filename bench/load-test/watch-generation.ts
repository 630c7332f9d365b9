/**
 * One generation as a client lives it: submit through the public API, follow it on the
 * WebSocket the 202 names, and, should the socket end early, poll the API until it ends.
 */
import { isTerminal, type JobStatus } from "../../shared/job-states.ts";
import { isTerminalMessage, type ServerMessage } from "../../shared/ws-messages.ts";

export interface GenerationRecord {
  /** ms from the run's start. */
  submittedAt: number;
  acceptedAt?: number;
  submitStatus: number | "network-error";
  id?: string;
  /** Terminal messages received over the WebSocket (more than one is a duplicate). */
  terminalMessages: number;
  endedAt?: number;
  outcome?: string;
  /** How the socket closed, if not after the terminal message. */
  socketDropped?: number;
  firstEventAt?: number;
}

export interface WatchContext {
  edgeUrl: string;
  /** ms since the run's start. */
  now(): number;
  onSocket(delta: 1 | -1): void;
}

const POLL_MS = 500;

export async function watchGeneration(
  context: WatchContext,
  token: string,
  body: Record<string, unknown>,
  record: GenerationRecord,
  until: () => boolean,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${context.edgeUrl}/api/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    record.submitStatus = "network-error";
    return;
  }
  record.submitStatus = response.status;
  if (response.status !== 202) {
    await response.body?.cancel();
    return;
  }
  const accepted = (await response.json()) as { id: string; links: { events: string } };
  record.acceptedAt = context.now();
  record.id = accepted.id;
  await follow(context, accepted.links.events, record);
  // The socket ended without a terminal message: poll like a client that lost its connection.
  while (record.endedAt === undefined && !until()) {
    const r = await fetch(`${context.edgeUrl}/api/generations/${accepted.id}`, {
      headers: { authorization: `Bearer ${token}` },
    }).catch(() => null);
    const g = r?.ok ? ((await r.json()) as { status: JobStatus }) : null;
    if (g && isTerminal(g.status)) {
      record.endedAt = context.now();
      record.outcome = g.status;
      return;
    }
    await Bun.sleep(POLL_MS);
  }
}

function follow(context: WatchContext, url: string, record: GenerationRecord): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    let open = false;
    socket.onopen = () => {
      open = true;
      context.onSocket(1);
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as ServerMessage;
      record.firstEventAt ??= context.now();
      if (message.type !== "snapshot" && isTerminalMessage(message)) {
        record.terminalMessages++;
        if (record.endedAt === undefined) {
          record.endedAt = context.now();
          record.outcome = message.type;
        }
      } else if (message.type === "snapshot" && isTerminal(message.status) && record.endedAt === undefined) {
        // Ended before the socket opened: the first message is its final snapshot, then 1000.
        record.endedAt = context.now();
        record.outcome = message.status;
      }
    };
    socket.onclose = (event) => {
      if (open) context.onSocket(-1);
      if (record.endedAt === undefined) record.socketDropped = event.code;
      resolve();
    };
    socket.onerror = () => {
      // onclose follows.
    };
  });
}
