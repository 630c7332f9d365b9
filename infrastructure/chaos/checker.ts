/**
 * What the chaos suite holds the pipeline to, as a pure function of what it recorded: the
 * submissions and their watchers, the topics' records, the edge's answers and Redis's traces.
 * Every accepted id is in the request topic, ends exactly once (one terminal message to its
 * watcher, one terminal status event, one outcome record), has its image; watchers saw `seq`
 * gap-free and in order up to the end; a refused submit left nothing behind; nothing answered 500.
 */
import type { RawRecord } from "../../worker/kafka/topic-reader.ts";
import type { Submission } from "./load-driver.ts";

export interface Evidence {
  submissions: Submission[];
  requests: RawRecord[];
  status: RawRecord[];
  complete: RawRecord[];
  failed: RawRecord[];
  deadLetters: RawRecord[];
  /** The request topic's full name, to tell which dead letters were requests. */
  requestTopic: string;
  /** The edge's `GET /api/generations/{id}`: HTTP status and the generation's status. */
  api: Map<string, { code: number; status?: string }>;
  /** HTTP status of fetching each completed generation's image. */
  images: Map<string, number>;
  /** Submission numbers of refused submits whose Idempotency-Key record is still in Redis. */
  idempotencyLeft: Set<number>;
  /**
   * Generation ids found in Redis (a snapshot, or in a user's list) that no 202 named, with where
   * each was found; only ids made while every submit had been answered are gathered.
   */
  strayIds: Map<string, string>;
}

export interface Verdict {
  submitted: number;
  accepted: number;
  /** Answers other than 202, by status ("network-error" when none came). */
  refused: Record<string, number>;
  errors500: number;
  lost: { id: string; why: string }[];
  duplicated: { id: string; what: string }[];
  stuck: string[];
  watcherFaults: { id: string; seqs: number[]; why: string }[];
  missingImages: string[];
  refusedTraces: { what: string }[];
  /** Dead letters parked meanwhile, as "consumer: error code (source topic)" (requests among them count as outcomes). */
  deadLetters: string[];
  ok: boolean;
}

const TERMINAL = new Set(["completed", "failed", "canceled", "expired"]);
const OUTCOME_TERMINALS = new Set(["completed", "failed"]);

const countBy = <T>(items: T[], key: (item: T) => string | null | undefined): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
};

const parse = (value: string): Record<string, unknown> | null => {
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    return null;
  }
};

/** The generation id of a dead-lettered request: its original key. */
function deadRequestId(record: RawRecord, requestTopic: string): string | null {
  const event = parse(record.value) as { source?: { topic?: string }; keyBase64?: string } | null;
  if (event?.source?.topic !== requestTopic || !event.keyBase64) return null;
  return Buffer.from(event.keyBase64, "base64").toString("utf8");
}

function describeDeadLetter(record: RawRecord): string {
  const event = parse(record.value) as {
    consumer?: string;
    error?: { code?: string; message?: string };
    source?: { topic?: string };
  } | null;
  return `${event?.consumer}: ${event?.error?.code} (${event?.source?.topic ?? "?"}): ${event?.error?.message?.slice(0, 160)}`;
}

/** Where an id's outcome records are (a parked request among them), to tell what produced each. */
function outcomeRecords(evidence: Evidence, id: string): string {
  const outcomes = [...evidence.complete, ...evidence.failed]
    .filter((r) => r.key === id)
    .map((r) => {
      const e = parse(r.value) as { attempts?: number; completedAt?: string; failedAt?: string } | null;
      return `${r.topic}@${r.partition}:${r.offset} attempts ${e?.attempts} at ${e?.completedAt ?? e?.failedAt}`;
    });
  const parked = evidence.deadLetters
    .filter((r) => deadRequestId(r, evidence.requestTopic) === id)
    .map((r) => `request parked on ${r.topic}: ${describeDeadLetter(r)}`);
  return [...outcomes, ...parked].join("; ");
}

/** Problems with one watcher's view: gaps, disorder, more or fewer than one end, anything after it. */
export function watcherFault(watch: Submission["watch"]): string | null {
  if (!watch) return "never watched";
  if (watch.terminals.length === 0) return "no terminal message";
  if (watch.terminals.length > 1) return `${watch.terminals.length} terminal messages`;
  for (let i = 1; i < watch.seqs.length; i++) {
    const [prev, seq] = [watch.seqs[i - 1] ?? 0, watch.seqs[i] ?? 0];
    if (seq !== prev + 1) return `seq ${seq} after ${prev}`;
  }
  if (watch.seqs.at(-1) !== watch.terminals[0]?.seq) return "messages after the terminal one";
  return null;
}

export function check(evidence: Evidence): Verdict {
  const { submissions } = evidence;
  const accepted = submissions.filter((s) => s.status === 202 && s.id);
  const acceptedIds = new Set(accepted.map((s) => s.id as string));
  const refusedSubmits = submissions.filter((s) => s.status !== 202);
  const refused: Record<string, number> = {};
  for (const s of refusedSubmits) refused[String(s.status)] = (refused[String(s.status)] ?? 0) + 1;

  const requested = countBy(evidence.requests, (r) => r.key);
  const terminalEvents = countBy(evidence.status, (r) => {
    const e = parse(r.value) as { status?: string } | null;
    return e?.status && TERMINAL.has(e.status) ? r.key : null;
  });
  const outcomes = countBy([...evidence.complete, ...evidence.failed], (r) => r.key);
  const deadRequests = countBy(evidence.deadLetters, (r) => deadRequestId(r, evidence.requestTopic));

  const lost: Verdict["lost"] = [];
  const duplicated: Verdict["duplicated"] = [];
  const stuck: string[] = [];
  const watcherFaults: Verdict["watcherFaults"] = [];
  const missingImages: string[] = [];
  for (const s of accepted) {
    const id = s.id as string;
    const requests = requested.get(id) ?? 0;
    const api = evidence.api.get(id);
    if (requests === 0) lost.push({ id, why: "not in the request topic" });
    else if (api?.code === 404) lost.push({ id, why: "GET answers 404" });
    if (requests > 1) duplicated.push({ id, what: `${requests} request records` });

    const watched = s.watch?.terminals[0]?.type;
    const ended = watched ?? (api?.status && TERMINAL.has(api.status) ? api.status : undefined);
    if (!ended) {
      if (requests > 0 && api?.code !== 404) stuck.push(id);
      continue;
    }
    const fault = watcherFault(s.watch);
    if (fault) watcherFaults.push({ id, seqs: s.watch?.seqs ?? [], why: fault });
    const terminals = terminalEvents.get(id) ?? 0;
    if (terminals === 0) lost.push({ id, why: `${ended} without a terminal status event` });
    if (terminals > 1) duplicated.push({ id, what: `${terminals} terminal status events` });
    const outcome = (outcomes.get(id) ?? 0) + (deadRequests.get(id) ?? 0);
    if (OUTCOME_TERMINALS.has(ended) && outcome === 0) lost.push({ id, why: `${ended} without an outcome record` });
    if (outcome > 1) duplicated.push({ id, what: `${outcome} outcome records (${outcomeRecords(evidence, id)})` });
    if (ended === "completed" && evidence.images.get(id) !== 200)
      missingImages.push(`${id} (${evidence.images.get(id) ?? "no url"})`);
  }

  const refusedTraces: Verdict["refusedTraces"] = [];
  const refusedPrompts = new Map(refusedSubmits.map((s) => [s.prompt, s.n]));
  // Kafka may take a request after the edge gave up on it (docs/api.md): its id was tombstoned,
  // so it is a trace only if anything acted on it — a status event, an outcome, a dead letter.
  const actedOn = new Set([...evidence.status.map((r) => r.key), ...outcomes.keys(), ...deadRequests.keys()]);
  for (const r of evidence.requests) {
    const prompt = (parse(r.value) as { params?: { prompt?: string } } | null)?.params?.prompt;
    const n = prompt === undefined ? undefined : refusedPrompts.get(prompt);
    if (n !== undefined && actedOn.has(r.key))
      refusedTraces.push({ what: `refused submit #${n} reached Kafka as ${r.key} and was acted on` });
  }
  for (const n of evidence.idempotencyLeft)
    refusedTraces.push({ what: `refused submit #${n} left its Idempotency-Key record` });
  for (const [id, where] of evidence.strayIds)
    if (!acceptedIds.has(id)) refusedTraces.push({ what: `${id} was never accepted but has ${where}` });

  const errors500 =
    submissions.filter((s) => s.status === 500).length +
    [...evidence.api.values()].filter((a) => a.code === 500).length;
  return {
    submitted: submissions.length,
    accepted: accepted.length,
    refused,
    errors500,
    lost,
    duplicated,
    stuck,
    watcherFaults,
    missingImages,
    refusedTraces,
    deadLetters: evidence.deadLetters.map(describeDeadLetter),
    ok:
      errors500 === 0 &&
      lost.length === 0 &&
      duplicated.length === 0 &&
      stuck.length === 0 &&
      watcherFaults.length === 0 &&
      missingImages.length === 0 &&
      refusedTraces.length === 0,
  };
}
