import { isTerminal } from "../../shared/job-states.ts";
import { redisKeys } from "../../shared/redis-keys.ts";
import { toPublicSnapshot } from "../../shared/snapshot.ts";
import { type EventMessage, isTerminalMessage, type ServerMessage } from "../../shared/ws-messages.ts";
import type { Fanout } from "./fanout.ts";
import type { FeedReader } from "./feed-reader.ts";

export interface FeedOptions {
  id: string;
  /** Resume: replay every event after this `seq` instead of sending a snapshot. */
  after?: number;
  prefix: string;
  reader: FeedReader;
  fanout: Fanout;
  send(message: ServerMessage): void;
  /**
   * "terminal": the last event was delivered; "unknown": no such generation appeared in time;
   * "unreadable": a gap could not be filled from the event log (Redis away for 10 s), so the
   * client should reconnect with `after=<last seq>` rather than go on with a hole.
   */
  end(reason: "terminal" | "unknown" | "unreadable"): void;
  /** How long to wait for a snapshot that the relay has not written yet. */
  appearWithinMs?: number;
}

/**
 * One client's view of one generation: a snapshot (or the events missed since `after`), then
 * every event once, in `seq` order, with no gaps. The race between reading the snapshot and
 * subscribing is closed by subscribing first and buffering; a gap in the live stream (a message
 * lost while Redis reconnected) is filled from the event log before going on.
 */
export async function openFeed(options: FeedOptions): Promise<{ close(): Promise<void> }> {
  const { id, reader } = options;
  let lastSent = 0;
  let started = false;
  let ended = false;
  const buffered: EventMessage[] = [];
  let chain: Promise<void> = Promise.resolve();

  const deliver = (message: EventMessage) => {
    if (ended || message.seq <= lastSent) return;
    options.send(message);
    lastSent = message.seq;
    if (isTerminalMessage(message)) {
      ended = true;
      options.end("terminal");
    }
  };
  /**
   * Delivers the logged events after the last one sent (those below `below`). Redis may be
   * settling (restarted, a connection being replaced): read again a while, since no later message
   * may come to fill the gap. Never rejects: a rejected `chain` would silence the feed for good.
   * When the log stays unreadable, the feed ends ("unreadable") instead of skipping the gap.
   */
  const catchUp = async (below = Number.POSITIVE_INFINITY): Promise<void> => {
    for (let attempt = 0; !ended && attempt < 40; attempt++) {
      try {
        for (const missed of await reader.eventsAfter(id, lastSent)) if (missed.seq < below) deliver(missed);
        return;
      } catch {
        await Bun.sleep(250);
      }
    }
    if (ended) return;
    ended = true;
    options.end("unreadable");
  };
  const handle = (message: EventMessage) => {
    chain = chain.then(async () => {
      if (ended || message.seq <= lastSent) return;
      if (message.seq > lastSent + 1) await catchUp(message.seq);
      deliver(message);
    });
  };

  /** Whether the subscription came back from a dropped connection before the feed started. */
  let resubscribedEarly = false;
  /** After the subscription came back from a dropped connection: what was published meanwhile, from the log. */
  const resync = () => {
    if (!started) resubscribedEarly = true;
    else chain = chain.then(() => catchUp());
  };
  const unwatch = await options.fanout.watch(
    redisKeys(options.prefix).events(id),
    (raw) => {
      const message = JSON.parse(raw) as EventMessage;
      if (started) handle(message);
      else buffered.push(message);
    },
    resync,
  );
  const close = async () => {
    ended = true;
    await unwatch();
  };

  let snapshot = await reader.snapshot(id);
  const until = Date.now() + (options.appearWithinMs ?? 5000);
  while (!snapshot && Date.now() < until) {
    await Bun.sleep(100);
    snapshot = await reader.snapshot(id);
  }
  if (!snapshot) {
    ended = true;
    options.end("unknown");
    await unwatch();
    return { close };
  }

  const after = options.after;
  const missed = after !== undefined && after <= snapshot.seq ? await reader.eventsAfter(id, after) : [];
  const canReplay = after !== undefined && after <= snapshot.seq && (missed[0]?.seq ?? snapshot.seq + 1) === after + 1;
  if (canReplay) {
    lastSent = after;
    for (const message of missed) deliver(message);
    if (!ended && isTerminal(snapshot.status) && lastSent >= snapshot.seq) {
      ended = true;
      options.end("terminal");
    }
  } else {
    options.send({ type: "snapshot", ...toPublicSnapshot(snapshot, await reader.queuePosition(snapshot)) });
    lastSent = snapshot.seq;
    if (isTerminal(snapshot.status)) {
      ended = true;
      options.end("terminal");
    }
  }
  started = true;
  for (const message of buffered) handle(message);
  // Messages lost while the subscription was down as the feed opened are in the log.
  if (resubscribedEarly) resync();
  await chain;
  return { close };
}
