/**
 * Fast takeover of a worker's generations: two real worker processes under the supervisor, one
 * killed with SIGKILL while generations run. The supervisor removes its member from the group, so
 * its partitions go to the survivor (and then to its replacement) at once: every generation ends,
 * exactly once, long before the 60 s session timeout configured here would have freed them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../infrastructure/paths.ts";
import { endOffsetTotal } from "../gateway/gateway-fixtures.ts";
import { createMemberEvictor } from "../kafka/group-membership.ts";
import type { Admin } from "../kafka/kafka-client.ts";
import { createSupervisor } from "../runtime/supervisor.ts";
import { silentLogger } from "../testing/kafka-test-env.ts";
import { type OpenAIImagesStandIn, startOpenAIImagesStandIn } from "../testing/openai-images-standin.ts";
import { freePort, type Pipeline, startPipeline } from "../testing/pipeline-harness.ts";
import { STANDIN_API_KEY, workerProcessEnv } from "../testing/worker-process-env.ts";

const SESSION_TIMEOUT_MS = 60_000;
const GENERATIONS = 8;
let p: Pipeline;
let model: OpenAIImagesStandIn;
let admin: Admin;
let dir: string;
let supervisor: ReturnType<typeof createSupervisor>;

beforeAll(async () => {
  p = await startPipeline({ workers: 0 });
  // A real model takes seconds: long enough to kill a worker in the middle of its generations.
  model = startOpenAIImagesStandIn({ apiKey: STANDIN_API_KEY, latencyMs: 3000 });
  dir = mkdtempSync(join(tmpdir(), "worker-takeover-"));
  admin = p.kafka.admin();
  await admin.connect();
  const evict = createMemberEvictor(p.kafka, silentLogger);
  supervisor = createSupervisor(silentLogger, {
    stopGraceMs: 15_000,
    evict: (member) => evict(member, SESSION_TIMEOUT_MS),
  });
  const env = workerProcessEnv(
    p,
    model,
    { ws: freePort(), internal: freePort() },
    {
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      METRICS_PORT: "0",
      DATABASE_URL: `file:${join(dir, "history.sqlite")}`,
    },
  );
  for (const name of ["worker-1", "worker-2"])
    supervisor.start({ name, cmd: [process.execPath, join(ROOT, "worker/main.ts")], env });
  const until = Date.now() + 60_000;
  while (!(await stableWith(2))) {
    if (Date.now() > until) throw new Error("the two workers did not form a stable group");
    await Bun.sleep(100);
  }
}, 120_000);
afterAll(async () => {
  await supervisor.stop();
  await admin.disconnect();
  await model.close();
  await p.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function stableWith(members: number): Promise<boolean> {
  const [group] = (await admin.describeGroups([p.kafkaConfig.consumerGroup])).groups;
  return group?.state === "Stable" && group.members.length === members;
}

test("a worker killed with SIGKILL mid-generation: every generation ends, once, well within the session timeout", async () => {
  const ids: string[] = [];
  for (let i = 0; i < GENERATIONS; i++) {
    const response = await p.submit("takeover", { prompt: `lighthouse ${i}`, width: 256, height: 256 });
    expect(response.status).toBe(202);
    ids.push(((await response.json()) as { id: string }).id);
  }
  // Both workers are busy: each owns half the partitions, and the model takes 3 s.
  await p.waitFor("takeover", ids[0] ?? "", (g) => g.status === "processing");

  const killedAt = Date.now();
  process.kill(supervisor.pids()["worker-1"] ?? 0, "SIGKILL");
  for (const id of ids) {
    const done = await p.waitFor("takeover", id, undefined, SESSION_TIMEOUT_MS - (Date.now() - killedAt));
    expect(done.status).toBe("completed");
  }
  const endedMs = Date.now() - killedAt;
  console.log(
    `worker takeover: all ${GENERATIONS} generations completed ${endedMs} ms after the SIGKILL (model latency 3000 ms)`,
  );
  expect(endedMs).toBeLessThan(SESSION_TIMEOUT_MS);
  // Exactly one outcome each, whoever finished it.
  await Bun.sleep(500);
  expect(await endOffsetTotal(p.kafka, p.topics.complete.name)).toBe(GENERATIONS);
}, 180_000);
