/**
 * A Kafka broker of a test's own (KRaft, one node, PLAINTEXT on loopback, its own ports and
 * folder) for outage tests: stopping and starting it touches nothing shared. The same released
 * jars as the local broker (infrastructure/kafka/kafka-local.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ensureJars, javaCmd } from "../../infrastructure/kafka/kafka-local.ts";
import { portOpen } from "../../infrastructure/process-tools.ts";
import { freePort } from "./pipeline-harness.ts";

export async function startPrivateKafka() {
  const dir = mkdtempSync(join(tmpdir(), "private-kafka-"));
  const port = freePort();
  const controller = freePort();
  const props = join(dir, "server.properties");
  mkdirSync(join(dir, "data"));
  writeFileSync(
    props,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      `log.dirs=${join(dir, "data")}`,
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=3",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=false",
      "",
    ].join("\n"),
  );
  await ensureJars(() => {});
  // A cluster id is 16 random bytes in unpadded base64url.
  const clusterId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
  const format = Bun.spawn(javaCmd("kafka.tools.StorageTool", ["format", "-t", clusterId, "-c", props]), {
    stdout: "ignore",
    stderr: "ignore",
  });
  if ((await format.exited) !== 0) throw new Error("could not format the private broker's storage");

  let proc: Subprocess | null = null;
  const start = async () => {
    proc = Bun.spawn(javaCmd("kafka.Kafka", [props], ["-Xms128m", "-Xmx384m", "-Djava.awt.headless=true"]), {
      cwd: dir,
      stdout: "ignore",
      stderr: "ignore",
    });
    const until = Date.now() + 90_000;
    while (!(await portOpen("127.0.0.1", port, 500))) {
      if (Date.now() > until || proc.exitCode !== null) throw new Error(`private Kafka did not listen on ${port}`);
      await Bun.sleep(100);
    }
  };
  const stop = async () => {
    proc?.kill("SIGTERM");
    await proc?.exited;
    proc = null;
  };
  await start();
  return {
    broker: `127.0.0.1:${port}`,
    /** The broker stopped as an operator stops it (SIGTERM: a controlled shutdown). */
    stop,
    /** Started again on the same ports and data; resolves once it accepts connections. */
    start,
    async remove() {
      proc?.kill("SIGKILL");
      await proc?.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
export type PrivateKafka = Awaited<ReturnType<typeof startPrivateKafka>>;
