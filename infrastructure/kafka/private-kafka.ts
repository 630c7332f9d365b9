/**
 * A KRaft broker of its own (one node, PLAINTEXT on loopback, free ports, its own folder, a child
 * of this process) for outage tests and the chaos suite: stopping and starting it touches nothing
 * the shared broker on 9092 serves. Same jars and properties as the local broker.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
} from "./kafka-local.ts";

/** `dir`: where its data and log go (default: a new temporary folder, removed by `remove`). */
export async function startPrivateKafka(options: { dir?: string; log?: (line: string) => void } = {}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "private-kafka-"));
  try {
    return await startIn(dir, options.log ?? (() => {}));
  } catch (error) {
    // A folder of our own making goes with the broker that did not come up; a caller's stays.
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir: string, log: (line: string) => void) {
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

  /** Starts the broker (again, on the same ports and data) and resolves once it answers a metadata request. */
  async function start(): Promise<void> {
    const out = openSync(logFile, "a");
    try {
      proc = Bun.spawn(javaCmd("kafka.Kafka", [propsFile], BROKER_HEAP), {
        cwd: dir,
        stdin: "ignore",
        stdout: out,
        stderr: out,
      });
    } finally {
      // The broker has its own copy of the descriptor; ours would leak one per restart.
      closeSync(out);
    }
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      if (await brokerAnswers(2000, layout.plaintext)) return;
      if (proc.exitCode !== null) break;
      await Bun.sleep(200);
    }
    await stop();
    throw new Error(`the private broker did not come up on ${layout.plaintext}; see ${logFile}`);
  }
  /** A clean stop (SIGTERM: a controlled shutdown), as an operator's restart; SIGKILL after 30 s. */
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
  return {
    brokers: layout.plaintext,
    logFile,
    start,
    stop,
    /** Kills the broker and removes its folder. */
    async remove(): Promise<void> {
      proc?.kill("SIGKILL");
      await proc?.exited;
      proc = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
export type PrivateKafka = Awaited<ReturnType<typeof startPrivateKafka>>;
