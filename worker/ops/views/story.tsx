/** @jsxImportSource hono/jsx */
import type { GenerationStory } from "../ops-records.ts";

const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 23);
const summary = (v: Record<string, unknown>) =>
  [
    v.status,
    v.stage,
    typeof v.progress === "number" ? `${v.progress}%` : null,
    typeof v.attempt === "number" ? `attempt ${v.attempt}` : null,
    typeof v.workerId === "string" ? `on ${v.workerId}` : null,
    (v.error as { code?: string } | undefined)?.code,
  ]
    .filter(Boolean)
    .join(" · ");

export function StoryPage(props: { story: GenerationStory }) {
  const { story } = props;
  return (
    <div>
      <h1>Generation {story.id}</h1>
      <p>
        Now: <strong id="story-status">{story.snapshot?.status ?? "not in Redis"}</strong>
        {story.snapshot?.userId && ` · user ${story.snapshot.userId}`}
      </p>
      <h2>Every event on every topic ({story.events.length})</h2>
      <table id="story">
        <thead>
          <tr>
            <th>written</th>
            <th>topic</th>
            <th>partition/offset</th>
            <th>seq</th>
            <th>what</th>
            <th>event</th>
          </tr>
        </thead>
        <tbody>
          {story.events.map((e) => (
            <tr data-topic={e.topicKey}>
              <td>{time(e.record.timestamp)}</td>
              <td>{e.record.topic}</td>
              <td>
                {e.record.partition}/{e.record.offset}
              </td>
              <td>{typeof e.value.seq === "number" ? e.value.seq : ""}</td>
              <td>{summary(e.value)}</td>
              <td>
                <details>
                  <summary>JSON</summary>
                  <pre>{JSON.stringify(e.value, null, 2)}</pre>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Its log (what live clients replay, from Redis)</h2>
      <ol id="log">
        {story.log.map((m) => (
          <li>
            <code>{JSON.stringify(m)}</code>
          </li>
        ))}
      </ol>
      <h2>Snapshot</h2>
      <pre>{story.snapshot ? JSON.stringify(story.snapshot, null, 2) : "none"}</pre>
    </div>
  );
}
