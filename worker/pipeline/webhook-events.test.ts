import { afterAll, beforeAll, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import { redisKeys } from "../../shared/redis-keys.ts";
import type { GenerationSnapshot } from "../../shared/snapshot.ts";
import type { EventMessage } from "../../shared/ws-messages.ts";
import { type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { scriptedProvider } from "../testing/scripted-provider.ts";

interface Delivery {
  id: string | null;
  body: GenerationSnapshot;
  verified: boolean;
}

let p: Pipeline;
/** The signing secret of user "wes", made through the API before any submit. */
let secret = "";
const verified = (headers: Headers, text: string): boolean => {
  try {
    new Webhook(secret).verify(text, Object.fromEntries(headers));
    return true;
  } catch {
    return false;
  }
};
const provider = scriptedProvider([]);
const deliveries = new Map<string, Delivery[]>();
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const text = await request.text();
    const body = JSON.parse(text) as GenerationSnapshot;
    const list = deliveries.get(body.id) ?? [];
    list.push({ id: request.headers.get("webhook-id"), body, verified: verified(request.headers, text) });
    deliveries.set(body.id, list);
    return new Response(null, { status: 204 });
  },
});
const hook = `http://127.0.0.1:${receiver.port}/hooks`;

beforeAll(async () => {
  p = await startPipeline({
    provider,
    edgeEnv: { ALLOW_PRIVATE_WEBHOOKS: "true" },
    webhooks: { policy: { allowPrivate: true, allowHttp: true } },
  });
  secret = await p.webhookSecret("wes");
});
afterAll(async () => {
  await p.stop();
  await receiver.stop(true);
});

async function submit(filter?: string[]) {
  const body = {
    prompt: "hooked",
    width: 256,
    height: 256,
    webhookUrl: hook,
    ...(filter ? { webhookEventsFilter: filter } : {}),
  };
  const response = await p.submit("wes", body);
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}
const received = (id: string) => deliveries.get(id) ?? [];
async function until(check: () => boolean) {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(20);
  }
}
/** Until the generation ended, its last delivery arrived and none is pending. */
async function allDelivered(id: string) {
  await p.waitFor("wes", id);
  await until(() => received(id).some((d) => d.body.status === "completed"));
  while ((await p.redis.send("ZSCORE", [redisKeys(p.prefix).webhooksDue(), id])) !== null) await Bun.sleep(20);
}

test("without a filter, and with [completed], only the end is delivered", async () => {
  const [plain, filtered] = [await submit(), await submit(["completed"])];
  for (const id of [plain, filtered]) {
    await allDelivered(id);
    expect(received(id).map((d) => d.body.status)).toEqual(["completed"]);
  }
});

test("[start, completed]: the start as soon as a worker picks it up, then the end, each signed with its own id", async () => {
  provider.script.push({ kind: "gate" });
  const id = await submit(["start", "completed"]);
  await until(() => received(id).length === 1);
  expect(received(id)[0]?.body).toMatchObject({ status: "processing" });
  provider.release();
  await allDelivered(id);
  const all = received(id);
  expect(all.map((d) => d.body.status)).toEqual(["processing", "completed"]);
  expect(all.every((d) => d.verified)).toBe(true);
  // An ending keeps its id across attempts; a start or progress delivery also names its seq.
  expect(all.map((d) => d.id)).toEqual([`msg_${id}_processing_${all[0]?.body.seq}`, `msg_${id}_completed`]);
});

test("[progress, completed]: progress after the start, throttled and coalesced, then the end", async () => {
  provider.script.push({ kind: "gate" });
  const id = await submit(["progress", "completed"]);
  await until(() => received(id).length === 1);
  expect(received(id)[0]?.body).toMatchObject({ status: "processing", stage: "rendering" });
  provider.release();
  await allDelivered(id);
  const all = received(id);
  expect(all.at(-1)?.body.status).toBe("completed");
  const progress = all.filter((d) => d.body.status === "processing");
  expect(progress.every((d) => d.body.stage !== "started")).toBe(true);
  expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
  // Fewer deliveries than progress events: the throttle held some back and each carried the latest state.
  const log = (await p.redis.send("LRANGE", [redisKeys(p.prefix).eventLog(id), "0", "-1"])) as string[];
  const events = log
    .map((m) => JSON.parse(m) as EventMessage)
    .filter((m) => m.type === "status" || m.type === "preview");
  expect(progress.length).toBeLessThan(events.length - 1);
  const seqs = progress.map((d) => d.body.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
});

test("a filter is checked: known events, each once, and only with a webhookUrl", async () => {
  const cases: Record<string, unknown>[] = [
    { webhookEventsFilter: ["completed"] },
    { webhookUrl: hook, webhookEventsFilter: [] },
    { webhookUrl: hook, webhookEventsFilter: ["output"] },
    { webhookUrl: hook, webhookEventsFilter: ["start", "start"] },
    { webhookUrl: hook, webhookEventsFilter: "start" },
  ];
  for (const body of cases) {
    const response = await p.submit("wes", { prompt: "p", ...body });
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { details: { path: string }[] } }).error;
    expect(error.details[0]?.path).toBe("webhookEventsFilter");
  }
  const form = new URLSearchParams({ prompt: "form", webhookUrl: hook, webhookEventsFilter: "start, completed" });
  expect((await p.api("/api/generations", { method: "POST", user: "wes", body: form })).status).toBe(202);
});
