/**
 * The chaos suite's steady load: submits through the public edge API at a fixed rate, round
 * robin over a few users, each with its own prompt and Idempotency-Key (so a refused submit can
 * be looked for afterwards), and watches every accepted generation on the WebSocket the 202
 * names — reconnecting with `after=<last seq>` when the socket drops — until it ends.
 */
import { isTerminal, type JobStatus } from "../../shared/job-states.ts";
import { isTerminalMessage, type ServerMessage } from "../../shared/ws-messages.ts";

export interface WatchLog {
  /** `seq` of every message in arrival order (the snapshot's included), across reconnections. */
  seqs: number[];
  /** Whether each connection began with a snapshot (no `after`) or resumed. */
  connections: { after: number | null; openedAt?: number; closeCode?: number }[];
  /** Terminal messages seen (a snapshot that is already terminal counts). */
  terminals: { type: string; seq: number; at: number }[];
  /** When the first message other than a snapshot arrived (Unix ms). */
  firstEventAt?: number;
  imageUrl?: string;
}

export interface Submission {
  n: number;
  user: string;
  idempotencyKey: string;
  prompt: string;
  /** Unix ms. */
  submittedAt: number;
  respondedAt?: number;
  status: number | "network-error";
  id?: string;
  watch?: WatchLog;
}

export interface LoadOptions {
  edgeUrl: string;
  /** One bearer token per user, by user id. */
  tokens: Map<string, string>;
  perSecond: number;
  run: string;
}

const RECONNECT_MS = 250;

export function startLoad(options: LoadOptions) {
  const users = [...options.tokens.keys()];
  const submissions: Submission[] = [];
  const watches: Promise<void>[] = [];
  let running = true;
  /** Unix ms after which watchers give up reconnecting. */
  let giveUpAt = Number.POSITIVE_INFINITY;

  async function submitOne(n: number): Promise<void> {
    const user = users[n % users.length] ?? "";
    const s: Submission = {
      n,
      user,
      idempotencyKey: `chaos-${options.run}-${n}`,
      prompt: `chaos ${options.run} #${n}`,
      submittedAt: Date.now(),
      status: "network-error",
    };
    submissions.push(s);
    let response: Response;
    try {
      response = await fetch(`${options.edgeUrl}/api/generations`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${options.tokens.get(user)}`,
          "content-type": "application/json",
          "idempotency-key": s.idempotencyKey,
        },
        body: JSON.stringify({ prompt: s.prompt, width: 256, height: 256, format: "webp" }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      s.respondedAt = Date.now();
      return;
    }
    s.respondedAt = Date.now();
    s.status = response.status;
    if (response.status !== 202) {
      await response.body?.cancel();
      return;
    }
    const accepted = (await response.json()) as { id: string; links: { events: string } };
    s.id = accepted.id;
    s.watch = { seqs: [], connections: [], terminals: [] };
    await watch(accepted.links.events, s.watch);
  }

  async function watch(url: string, log: WatchLog): Promise<void> {
    while (log.terminals.length === 0 && Date.now() < giveUpAt) {
      const last = log.seqs.at(-1);
      const after = last === undefined ? null : last;
      await connectOnce(after === null ? url : `${url}&after=${after}`, after, log);
      if (log.terminals.length === 0) await Bun.sleep(RECONNECT_MS);
    }
  }

  function connectOnce(url: string, after: number | null, log: WatchLog): Promise<void> {
    const connection: WatchLog["connections"][number] = { after };
    log.connections.push(connection);
    return new Promise((resolve) => {
      const socket = new WebSocket(url);
      // A socket to a process stopped (SIGSTOP) neither opens nor fails: do not wait on it forever.
      const stale = setInterval(() => {
        if (Date.now() > giveUpAt) socket.close();
      }, 1000);
      socket.onopen = () => {
        connection.openedAt = Date.now();
      };
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as ServerMessage;
        log.seqs.push(message.seq);
        const at = Date.now();
        if (message.type !== "snapshot") log.firstEventAt ??= at;
        if (message.type === "snapshot") {
          if (isTerminal(message.status as JobStatus)) {
            log.terminals.push({ type: message.status, seq: message.seq, at });
            if (message.image) log.imageUrl = message.image.url;
          }
        } else if (isTerminalMessage(message)) {
          log.terminals.push({ type: message.type, seq: message.seq, at });
          if (message.type === "completed") log.imageUrl = message.image.url;
        }
      };
      socket.onclose = (event) => {
        clearInterval(stale);
        connection.closeCode = event.code;
        resolve();
      };
    });
  }

  const driver = (async () => {
    const began = Date.now();
    for (let n = 0; running; n++) {
      const due = began + (n * 1000) / options.perSecond;
      const wait = due - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      if (!running) break;
      watches.push(submitOne(n));
    }
  })();

  return {
    submissions,
    /** Stops submitting; resolves once every watcher ended or `drainMs` passed. */
    async stop(drainMs: number): Promise<void> {
      running = false;
      await driver;
      giveUpAt = Date.now() + drainMs;
      await Promise.race([Promise.all(watches), Bun.sleep(drainMs + 2000)]);
    },
    /** Resolves once every accepted generation submitted before `before` ended, or `timeoutMs` passed. */
    async settled(before: number, timeoutMs: number): Promise<boolean> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const open = submissions.filter(
          (s) => s.submittedAt < before && (s.respondedAt === undefined || (s.id && !s.watch?.terminals.length)),
        );
        if (open.length === 0) return true;
        if (Date.now() > until) return false;
        await Bun.sleep(250);
      }
    },
  };
}
export type Load = ReturnType<typeof startLoad>;
