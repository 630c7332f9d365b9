/** @jsxImportSource hono/jsx */
import type { ReplayResult } from "../../relay/replay-failed.ts";
import type { FailedEntry, FailedFilter } from "../ops-records.ts";

const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

/** A replay button: the client asks for confirmation in a dialog; without it the server asks on a page. */
export function ReplayForm(props: { id?: string; label: string; question: string }) {
  return (
    <form method="post" action="/ops/replay" class="inline replay" data-confirm={props.question}>
      {props.id && <input type="hidden" name="id" value={props.id} />}
      <input type="hidden" name="confirm" value="" />
      <button type="submit" class="danger">
        {props.label}
      </button>
    </form>
  );
}

export function FailedPage(props: {
  entries: FailedEntry[];
  filter: FailedFilter;
  codes: string[];
  canReplay: boolean;
}) {
  const replayable = props.entries.filter((e) => e.state === "failed").length;
  return (
    <div>
      <h1>Failed and dead-lettered generations</h1>
      <form method="get" action="/ops/failed" class="filters">
        <label>
          error code{" "}
          <select name="code">
            <option value="">any</option>
            {props.codes.map((c) => (
              <option value={c} selected={c === props.filter.code}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          search <input name="q" value={props.filter.q ?? ""} placeholder="id, user or message" />
        </label>
        <label>
          <input type="checkbox" name="replayable" value="1" checked={props.filter.replayable} /> still failed only
        </label>
        <button type="submit">Filter</button>
      </form>
      <p>
        {props.entries.length} record(s), {replayable} still failed.{" "}
        {props.canReplay && replayable > 0 && (
          <ReplayForm
            label={`Replay all failed (${replayable})`}
            question={`Replay all ${replayable} failed generations?`}
          />
        )}
      </p>
      <table id="failed">
        <thead>
          <tr>
            <th>failed at</th>
            <th>topic</th>
            <th>generation</th>
            <th>user</th>
            <th>code</th>
            <th>message</th>
            <th>attempts</th>
            <th>now</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.entries.map((e) => (
            <tr data-id={e.id}>
              <td>{time(e.record.timestamp)}</td>
              <td>{e.kind}</td>
              <td>
                <a href={`/ops/generations/${e.id}`}>{e.id}</a>
              </td>
              <td>{e.userId}</td>
              <td>{e.code}</td>
              <td>{e.message}</td>
              <td>{e.attempts ?? "—"}</td>
              <td class="state">{e.state ?? "unknown"}</td>
              <td>
                <a href={`/ops/failed/${e.topicKey}/${e.record.partition}/${e.record.offset}`}>Inspect</a>{" "}
                {props.canReplay && e.state === "failed" && (
                  <ReplayForm id={e.id} label="Replay" question={`Replay generation ${e.id}?`} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function InspectPage(props: { entry: FailedEntry; canReplay: boolean }) {
  const { entry } = props;
  let pretty = entry.record.value;
  try {
    pretty = JSON.stringify(JSON.parse(entry.record.value), null, 2);
  } catch {
    // Not JSON: shown as written.
  }
  return (
    <div>
      <h1>
        {entry.kind} record {entry.record.partition}/{entry.record.offset}
      </h1>
      <p>
        Generation <a href={`/ops/generations/${entry.id}`}>{entry.id}</a> of {entry.userId}, written{" "}
        {time(entry.record.timestamp)}, now <span class="state">{entry.state ?? "unknown"}</span>.{" "}
        {props.canReplay && entry.state === "failed" && (
          <ReplayForm id={entry.id} label="Replay" question={`Replay generation ${entry.id}?`} />
        )}
      </p>
      <pre id="event">{pretty}</pre>
      {entry.original !== null && (
        <>
          <h2>The original message</h2>
          <pre id="original">{entry.original}</pre>
        </>
      )}
    </div>
  );
}

export function ConfirmReplayPage(props: { id?: string }) {
  return (
    <div>
      <h1>Confirm replay</h1>
      <p>{props.id ? `Replay generation ${props.id}?` : "Replay every failed generation?"}</p>
      <form method="post" action="/ops/replay">
        {props.id && <input type="hidden" name="id" value={props.id} />}
        <input type="hidden" name="confirm" value="yes" />
        <button type="submit" class="danger">
          Replay
        </button>{" "}
        <a href="/ops/failed">Cancel</a>
      </form>
    </div>
  );
}

export function ReplayResultPage(props: { result: ReplayResult }) {
  return (
    <div>
      <h1>Replay</h1>
      <p id="replay-summary">
        {props.result.replayed.length} replayed, {props.result.skipped.length} skipped
      </p>
      <ul>
        {props.result.replayed.map((id) => (
          <li>
            <a href={`/ops/generations/${id}`}>{id}</a>: replayed
          </li>
        ))}
        {props.result.skipped.map((s) => (
          <li>
            {s.id}: skipped ({s.reason})
          </li>
        ))}
      </ul>
      <a href="/ops/failed">Back to failed generations</a>
    </div>
  );
}
