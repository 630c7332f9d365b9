/**
 * A single-node Apache Kafka in KRaft mode, run from the released jars (resolved from Maven
 * with the machine's Java 17) instead of Docker. Listeners, all on loopback:
 *   9092 PLAINTEXT (what the pipeline uses locally), 9093 the KRaft controller,
 *   9094 SASL_SSL with SCRAM-SHA-512, the way MSK is reached, so that path is tested for real.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { parseConfig } from "../../shared/config/parse-config.ts";
import { createLogger } from "../../shared/logger.ts";
import { createKafka } from "../../worker/kafka/kafka-client.ts";
import { CACHE_DIR, DATA_DIR, ROOT } from "../paths.ts";
import { portOpen, runningPid, spawnDaemon, stopProcess } from "../process-tools.ts";

const POM = join(ROOT, "infrastructure/kafka/pom.xml");
export const KAFKA_VERSION = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, "utf8"))?.[1] ?? "";
export const PLAINTEXT_BROKER = "127.0.0.1:9092";
export const SASL_SSL_BROKER = "127.0.0.1:9094";
/** Local-only SCRAM credentials of the 9094 listener; MSK's come from Secrets Manager. */
export const LOCAL_SCRAM = { username: "pixel-local", password: "pixel-local-scram-password" };

const HOME = join(DATA_DIR, "kafka");
const LIB = join(CACHE_DIR, `kafka-${KAFKA_VERSION}`, "lib");
const TLS = join(HOME, "tls");
export const LOCAL_CA_FILE = join(TLS, "ca.pem");
const PID_FILE = join(HOME, "kafka.pid");
const LOG_FILE = join(HOME, "kafka.log");
const KEYSTORE_PASSWORD = "pixel-local-keystore";

async function run(cmd: string[], what: string): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", cwd: ROOT });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0)
    throw new Error(`${what} failed (exit ${code}): ${(err || out).trim().split("\n").slice(-5).join("\n")}`);
  return out;
}

export async function ensureJars(log: (line: string) => void): Promise<void> {
  const marker = join(LIB, ".complete");
  if (existsSync(marker)) return;
  log(`fetching Apache Kafka ${KAFKA_VERSION} jars with Maven (first run only)…`);
  mkdirSync(LIB, { recursive: true });
  await run(
    [
      "mvn",
      "-q",
      "-B",
      "-f",
      POM,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${LIB}`,
      "-DincludeScope=runtime",
    ],
    "resolving the Kafka jars",
  );
  writeFileSync(marker, new Date().toISOString());
}

async function ensureTls(): Promise<void> {
  if (existsSync(LOCAL_CA_FILE)) return;
  mkdirSync(TLS, { recursive: true });
  const keystore = join(TLS, "broker.p12");
  const pass = ["-storepass", KEYSTORE_PASSWORD, "-keypass", KEYSTORE_PASSWORD];
  await run(
    [
      "keytool",
      "-genkeypair",
      "-alias",
      "broker",
      "-keyalg",
      "RSA",
      "-keysize",
      "2048",
      "-validity",
      "3650",
      "-dname",
      "CN=localhost",
      "-ext",
      "SAN=dns:localhost,ip:127.0.0.1",
      "-ext",
      "BC=ca:true",
      "-keystore",
      keystore,
      "-storetype",
      "PKCS12",
      ...pass,
    ],
    "creating the broker's TLS key",
  );
  await run(
    [
      "keytool",
      "-exportcert",
      "-rfc",
      "-alias",
      "broker",
      "-keystore",
      keystore,
      "-storepass",
      KEYSTORE_PASSWORD,
      "-file",
      LOCAL_CA_FILE,
    ],
    "exporting the broker certificate",
  );
}

/** Where one broker listens and keeps its data: the shared one below, or a private one (the chaos suite's). */
export interface BrokerLayout {
  plaintext: string;
  controllerPort: number;
  dataDir: string;
  /** The SCRAM-over-TLS listener, MSK's way in; private brokers go without. */
  saslSsl?: string;
}

const SHARED_LAYOUT: BrokerLayout = {
  plaintext: PLAINTEXT_BROKER,
  controllerPort: 9093,
  dataDir: join(HOME, "data"),
  saslSsl: SASL_SSL_BROKER,
};

export function serverProperties(layout: BrokerLayout): string {
  const controller = `127.0.0.1:${layout.controllerPort}`;
  const sasl = layout.saslSsl;
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@${controller}`,
    `listeners=PLAINTEXT://${layout.plaintext},CONTROLLER://${controller}${sasl ? `,SASL_SSL://${sasl}` : ""}`,
    `advertised.listeners=PLAINTEXT://${layout.plaintext}${sasl ? `,SASL_SSL://${sasl}` : ""}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${sasl ? ",SASL_SSL:SASL_SSL" : ""}`,
    ...(sasl
      ? [
          "sasl.enabled.mechanisms=SCRAM-SHA-512",
          "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
          `ssl.keystore.location=${join(TLS, "broker.p12")}`,
          "ssl.keystore.type=PKCS12",
          `ssl.keystore.password=${KEYSTORE_PASSWORD}`,
          `ssl.key.password=${KEYSTORE_PASSWORD}`,
        ]
      : []),
    `log.dirs=${layout.dataDir}`,
    "num.partitions=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=10",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "auto.create.topics.enable=false",
    "",
  ].join("\n");
}

/** The broker's JVM options: small heap, as on a developer machine. */
export const BROKER_HEAP = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true"];

export const javaCmd = (main: string, args: string[], heap: string[] = []) => [
  "java",
  ...heap,
  `-Dlog4j.configuration=file:${join(ROOT, "infrastructure/kafka/log4j.properties")}`,
  "-cp",
  `${LIB}/*`,
  main,
  ...args,
];

export async function ensureFormatted(propsFile: string, layout: BrokerLayout): Promise<void> {
  if (existsSync(join(layout.dataDir, "meta.properties"))) return;
  const clusterId =
    (await run(javaCmd("kafka.tools.StorageTool", ["random-uuid"]), "making a cluster id")).trim().split("\n").at(-1) ??
    "";
  await run(
    javaCmd("kafka.tools.StorageTool", [
      "format",
      "-t",
      clusterId,
      "-c",
      propsFile,
      ...(layout.saslSsl
        ? ["--add-scram", `SCRAM-SHA-512=[name=${LOCAL_SCRAM.username},password=${LOCAL_SCRAM.password}]`]
        : []),
    ]),
    "formatting the KRaft storage",
  );
}

/**
 * The CA (the broker's self-signed certificate) of whatever broker listens on the SASL_SSL
 * port, read from the TLS handshake: right even when the broker was started by another checkout.
 */
export function brokerCaPem(): Promise<string> {
  return new Promise((resolve, reject) => {
    const [host, port] = SASL_SSL_BROKER.split(":");
    const socket = tlsConnect({ host, port: Number(port), rejectUnauthorized: false }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.destroy();
      const body =
        der
          .toString("base64")
          .match(/.{1,64}/g)
          ?.join("\n") ?? "";
      resolve(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`);
    });
    socket.once("error", reject);
  });
}

/** True once the broker answers a metadata request, not merely accepts TCP connections. */
export async function brokerAnswers(timeoutMs = 2000, broker = PLAINTEXT_BROKER): Promise<boolean> {
  const [host = "127.0.0.1", port] = broker.split(":");
  if (!(await portOpen(host, Number(port), 500))) return false;
  const logger = createLogger({ level: "error", sink: () => {} });
  const kafka = createKafka({
    config: parseConfig({ KAFKA_BROKERS: broker, KAFKA_CONNECT_TIMEOUT_MS: String(timeoutMs) }, ["kafka"]).kafka,
    logger,
    retries: 0,
    requestTimeoutMs: timeoutMs,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export function kafkaPid(): number | null {
  return runningPid(PID_FILE);
}

export async function startKafka(
  log: (line: string) => void = console.log,
): Promise<{ pid: number; startedMs: number; alreadyRunning: boolean }> {
  const began = performance.now();
  const existing = kafkaPid();
  if (existing !== null && (await brokerAnswers())) {
    return { pid: existing, startedMs: 0, alreadyRunning: true };
  }
  if (existing === null && (await portOpen("127.0.0.1", 9092, 500))) {
    if (await brokerAnswers()) {
      log(`a Kafka broker not started by this project already answers on ${PLAINTEXT_BROKER}; using it`);
      return { pid: -1, startedMs: 0, alreadyRunning: true };
    }
    throw new Error(`port 9092 is taken by something that is not a Kafka broker`);
  }
  mkdirSync(HOME, { recursive: true });
  await ensureJars(log);
  await ensureTls();
  const propsFile = join(HOME, "server.properties");
  writeFileSync(propsFile, serverProperties(SHARED_LAYOUT));
  await ensureFormatted(propsFile, SHARED_LAYOUT);
  const pid =
    existing ??
    spawnDaemon(javaCmd("kafka.Kafka", [propsFile], BROKER_HEAP), {
      logFile: LOG_FILE,
      pidFile: PID_FILE,
      cwd: HOME,
    });
  const until = Date.now() + 90_000;
  while (Date.now() < until) {
    if (await brokerAnswers()) return { pid, startedMs: Math.round(performance.now() - began), alreadyRunning: false };
    if (kafkaPid() === null) break;
    await Bun.sleep(250);
  }
  const tail = existsSync(LOG_FILE) ? readFileSync(LOG_FILE, "utf8").trim().split("\n").slice(-15).join("\n") : "";
  throw new Error(`Kafka did not come up on ${PLAINTEXT_BROKER}; last lines of ${LOG_FILE}:\n${tail}`);
}

export async function stopKafka(): Promise<"stopped" | "not-running"> {
  return stopProcess(PID_FILE, 30_000);
}
