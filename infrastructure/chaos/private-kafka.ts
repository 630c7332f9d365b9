/**
 * A KRaft broker of the chaos suite's own: free ports, its own data folder, a child of this
 * process, so stopping and starting it touches nothing the shared broker on 9092 serves.
 */
import { mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../../worker/testing/process-pipeline.ts";
import {
  BROKER_HEAP,
  type BrokerLayout,
  brokerAnswers,
  ensureFormatted,
  ensureJars,
  javaCmd,
  serverProperties,
} from "../kafka/kafka-local.ts";

export async function startPrivateKafka(dir: string, log: (line: string) => void) {
  const layout: BrokerLayout = {
    plaintext: `127.0.0.1:${freePort()}`,
    controllerPort: freePort(),
    dataDir: join(dir, "data"),
  };
  mkdirSync(dir, { recursive: true });
  await ensureJars(log);
  const propsFile = join(dir, "server.properties");
  writeFileSync(propsFile, serverProperties(layout));
  await ensureFormatted(propsFile, layout);
  const logFile = join(dir, "kafka.log");
  let proc: Subprocess | null = null;

  const answers = () => brokerAnswers(2000, layout.plaintext);
  /** Starts the broker and resolves once it answers a metadata request. */
  async function start(): Promise<void> {
    const out = openSync(logFile, "a");
    proc = Bun.spawn(javaCmd("kafka.Kafka", [propsFile], BROKER_HEAP), {
      cwd: dir,
      stdin: "ignore",
      stdout: out,
      stderr: out,
    });
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      if (await answers()) return;
      if (proc.exitCode !== null) break;
      await Bun.sleep(200);
    }
    await stop();
    throw new Error(`the chaos suite's broker did not come up on ${layout.plaintext}; see ${logFile}`);
  }
  /** A clean stop (SIGTERM), as an operator's restart; SIGKILL after 30 s. */
  async function stop(): Promise<void> {
    const running = proc;
    if (!running) return;
    running.kill("SIGTERM");
    const exited = await Promise.race([running.exited.then(() => true), Bun.sleep(30_000).then(() => false)]);
    if (!exited) {
      running.kill("SIGKILL");
      await running.exited;
    }
    proc = null;
  }
  await start();
  return { brokers: layout.plaintext, logFile, start, stop, answers };
}
export type PrivateKafka = Awaited<ReturnType<typeof startPrivateKafka>>;
